// The in-memory DPoP replay cache under attack, with an injected clock: a cache full of unexpired proofs refuses new
// ones instead of forgetting a live one (a flood must not make room for a captured proof), and a proof is remembered
// up to and including the last instant it is accepted, however the clock ticks during a verification.
// The verifier-level cases use DPoP-bound tokens of a stand-in issuer on loopback (no provider needed).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDpopReplayCache } from "../../server/mod.ts";
import { jwkThumbprint } from "../../server/_dpop_proof.ts";
import { claims, generateTestKey, type KeyServer, signJwt, startKeyServer, type TestKey } from "./support/key_server.ts";
import { dpopKeyPair, dpopRequest, makeProof, publicJwk } from "./support/dpop.ts";
import { rejection, throws } from "../support/reject.ts";
import { verifierFor } from "./support/verifier.ts";

const API = "https://api.example.test/";
const ME = "https://api.example.test/me";
const http = { allowInsecureRequests: true, timeoutMs: 5_000 };

describe("createDpopReplayCache() when full", () => {
  it("refuses a new proof while every entry is unexpired, and keeps refusing the replays it holds", () => {
    let now = 0;
    const cache = createDpopReplayCache({ maxEntries: 3, now: () => now });
    for (const id of ["victim", "flood-1", "flood-2"]) expect(cache.use(id, 1_000)).toBe(true);
    const full = throws(() => cache.use("flood-3", 1_000));
    expect(full.code).toBe("invalid_token");
    expect(full.error).toBe("invalid_dpop_proof");
    expect(full.status).toBe(401);
    // The reason is for the server's log: what happened and what to change.
    expect(full.message).toMatch(/replay cache is full/);
    expect(full.hint).toMatch(/maxEntries/);
    expect(String((full.cause as Error | undefined)?.message)).toMatch(/3 unexpired/);
    // The captured proof is still known: the flood did not push it out.
    expect(cache.use("victim", 1_000)).toBe(false);
    // Once entries expire there is room again.
    now = 1_001;
    expect(cache.use("flood-3", 2_001)).toBe(true);
    expect(cache.use("victim", 2_001)).toBe(true);
  });

  it("makes room from expired entries wherever they are, not only at the oldest end", () => {
    let now = 0;
    const cache = createDpopReplayCache({ maxEntries: 3, now: () => now });
    expect(cache.use("long", 5_000)).toBe(true);
    expect(cache.use("short", 100)).toBe(true);
    expect(cache.use("long-2", 5_000)).toBe(true);
    now = 200; // "short" expired, behind a live entry
    expect(cache.use("new", 5_000)).toBe(true);
    expect(cache.use("long", 5_000)).toBe(false);
    expect(cache.use("long-2", 5_000)).toBe(false);
  });
});

describe("createDpopReplayCache() at the edge of an entry's life", () => {
  it("remembers an entry up to and including its expiresAt", () => {
    let now = 0;
    const cache = createDpopReplayCache({ now: () => now });
    expect(cache.use("a", 1_000)).toBe(true);
    now = 1_000;
    expect(cache.use("a", 2_000)).toBe(false);
    now = 1_001;
    expect(cache.use("a", 2_001)).toBe(true);
  });

  it("judges by the time the verifier read, when given one", () => {
    const cache = createDpopReplayCache({ now: () => 10_000 });
    expect(cache.use("a", 1_000, 0)).toBe(true);
    expect(cache.use("a", 1_000, 1_000)).toBe(false);
  });
});

describe("createVerifier() replays at the edge of the proof window (injected clock)", () => {
  let issuer: KeyServer;
  let signingKey: TestKey;
  let keyPair: CryptoKeyPair;
  let token: string;
  beforeAll(async () => {
    signingKey = await generateTestKey("ES256", "issuer-key");
    issuer = await startKeyServer([signingKey]);
    keyPair = await dpopKeyPair();
    token = await signJwt(signingKey, claims(issuer.issuer, API, { cnf: { jkt: await jwkThumbprint(await publicJwk(keyPair)) } }));
  });
  afterAll(async () => {
    await issuer?.close();
  });

  const verifier = verifierFor(() => ({ issuer: issuer.issuer, audience: API, http }));

  it("refuses a proof replayed at the last instant it is accepted (iat + window + tolerance)", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const last = (iat + 60 + 30) * 1000;
    let now = last - 5_000;
    const v = verifier({ now: () => now });
    const proof = await makeProof(keyPair, { htu: ME, token, iat });
    expect((await v.verifyRequest(dpopRequest(ME, token, proof))).confirmation).toBeDefined();
    now = last;
    const replay = await rejection(v.verifyRequest(dpopRequest(ME, token, proof)));
    expect(replay.error).toBe("invalid_dpop_proof");
    expect(replay.errorDescription).toMatch(/used before/);
    // A millisecond later it is refused for its age.
    now = last + 1;
    expect((await rejection(v.verifyRequest(dpopRequest(ME, token, proof)))).errorDescription).toMatch(/iat/);
  });

  it("refuses the replay however the clock ticks during the verification", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const last = (iat + 60 + 30) * 1000;
    // The clock reads `last` for the first `ticksAfter` reads of a verification, then one millisecond later.
    const acceptedTwice: number[] = [];
    for (const ticksAfter of [0, 1, 2, 3, 4]) {
      let reads = 0;
      let base = last - 5_000;
      let ticking = false;
      const now = () => (ticking && reads++ >= ticksAfter ? base + 1 : base);
      const v = verifier({ now });
      const proof = await makeProof(keyPair, { htu: ME, token, iat });
      await v.verifyRequest(dpopRequest(ME, token, proof));
      base = last;
      ticking = true;
      const replay = await v.verifyRequest(dpopRequest(ME, token, proof)).then(() => undefined, (error) => error);
      if (replay === undefined) acceptedTwice.push(ticksAfter);
      else expect(replay.error, `clock ticks after ${ticksAfter} reads`).toBe("invalid_dpop_proof");
    }
    expect(acceptedTwice, "clock ticks after n reads, proof accepted twice").toEqual([]);
  });

  it("refuses new proofs (fail closed) while its replay cache is full, and never accepts a captured one", async () => {
    let now = Date.now();
    const replayCache = createDpopReplayCache({ maxEntries: 2, now: () => now });
    const v = verifier({ now: () => now, dpop: { replayCache } });
    const victim = await makeProof(keyPair, { htu: ME, token });
    await v.verifyRequest(dpopRequest(ME, token, victim));
    // The attacker, holding some valid DPoP-bound token, floods the cache with fresh proofs.
    await v.verifyRequest(dpopRequest(ME, token, await makeProof(keyPair, { htu: ME, token })));
    const flood = await rejection(v.verifyRequest(dpopRequest(ME, token, await makeProof(keyPair, { htu: ME, token }))));
    expect(flood.error).toBe("invalid_dpop_proof");
    expect(flood.errorDescription).toMatch(/replay cache is full/);
    const replay = await rejection(v.verifyRequest(dpopRequest(ME, token, victim)));
    expect(replay.errorDescription).toMatch(/used before/);
    // Past the window, the entries go and fresh proofs pass again.
    now += 91_000;
    const later = await makeProof(keyPair, { htu: ME, token, iat: Math.floor(now / 1000) });
    expect((await v.verifyRequest(dpopRequest(ME, token, later))).confirmation).toBeDefined();
  });
});
