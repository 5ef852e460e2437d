// createVerifier() with DPoP-bound tokens (RFC 9449) from the real provider (features.dPoP): the code flow runs with
// the library's own protocol functions and an oauth4webapi DPoP handle, so the tokens are bound to the test's key;
// proofs then come from that handle or are made by hand to be wrong in exactly one way.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oauth from "oauth4webapi";
import type { TokenSet } from "../../mod.ts";
import {
  bearerChallenge,
  CliAuthError,
  createDpopReplayCache,
  createVerifier,
  identityHandler,
  unauthorizedResponse,
  type Verifier,
  type VerifierOptions,
  wwwAuthenticate,
} from "../../server/mod.ts";
import { jwkThumbprint } from "../../server/_dpop_proof.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { runtimeKey } from "../support/runtime.ts";
import { serve, type Served } from "./support/serve.ts";
import { dpopKeyPair, dpopRequest, makeProof, publicJwk } from "./support/dpop.ts";
import {
  claims as keyServerClaims,
  encodeJson,
  generateTestKey,
  type KeyServer,
  signJwt,
  startKeyServer,
  type TestKey,
} from "./support/key_server.ts";
import { http, introspection, issueTokens } from "./support/tokens.ts";
import { rejection } from "../support/reject.ts";
import { verifierFor } from "./support/verifier.ts";

const API = "https://api.example.test/";
const OPAQUE_API = "urn:example:opaque-dpop";
const ME = "https://api.example.test/me";

let provider: TestProvider;
let keyPair: CryptoKeyPair;
let otherKeyPair: CryptoKeyPair;
let jkt: string;
let bound: TokenSet;
let opaque: TokenSet;
let plain: TokenSet;

beforeAll(async () => {
  provider = await startProvider({
    dpop: true,
    resources: { [API]: { format: "jwt" }, [OPAQUE_API]: { format: "opaque" } },
  });
  [keyPair, otherKeyPair] = await Promise.all([dpopKeyPair(), dpopKeyPair()]);
  jkt = await jwkThumbprint(await publicJwk(keyPair));
  [bound, opaque, plain] = await Promise.all([
    issueTokens(provider.issuer, { resource: API, dpop: keyPair, scopes: ["openid", "api:read", "api:write"] }),
    issueTokens(provider.issuer, { resource: OPAQUE_API, dpop: keyPair, login: "bob" }),
    issueTokens(provider.issuer, { resource: API, login: "carol" }),
  ]);
});
afterAll(async () => {
  await provider?.close();
});

const verifier = verifierFor(() => ({ issuer: provider.issuer, audience: API, http, introspection }));

const claimsOf = (jwt: string) => JSON.parse(atob(jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));

/** A valid proof for GET /me with the bound token, with overrides. */
const proof = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key = keyPair) =>
  makeProof(key, { htm: "GET", htu: ME, token: bound.accessToken, ...claims }, header);

/** Refused with code invalid_token, status 401, the given OAuth error and a description matching `description`. */
async function refused(promise: Promise<unknown>, error: string, description: RegExp): Promise<CliAuthError> {
  const failure = await rejection(promise);
  expect(failure.code).toBe("invalid_token");
  expect(failure.status).toBe(401);
  expect(failure.error).toBe(error);
  expect(failure.errorDescription).toMatch(description);
  return failure;
}

describe("the provider's DPoP-bound tokens", () => {
  it("come with token_type DPoP and cnf.jkt the RFC 7638 thumbprint of the key", async () => {
    expect(bound.tokenType).toBe("DPoP");
    expect(opaque.tokenType).toBe("DPoP");
    expect(plain.tokenType).toBe("Bearer");
    expect(claimsOf(bound.accessToken).cnf).toEqual({ jkt });
    // The same thumbprint as oauth4webapi computes for its handle.
    expect(await oauth.DPoP({}, keyPair).calculateThumbprint()).toBe(jkt);
  });
});

describe("createVerifier() with a DPoP proof", () => {
  it("verifies a DPoP request: subject, scopes and confirmation", async () => {
    const token = await verifier().verifyRequest(dpopRequest(ME, bound.accessToken, await proof()));
    expect(token.subject).toBe("alice");
    expect(token.type).toBe("jwt");
    expect(token.scopes.sort()).toEqual(["api:read", "api:write"]);
    expect(token.confirmation).toEqual({ jkt });
  });

  it("verifies the request oauth4webapi's protectedResourceRequest() makes with a DPoP handle", async () => {
    let sent: Request | undefined;
    await oauth.protectedResourceRequest(bound.accessToken, "GET", new URL(`${ME}?q=1`), new Headers(), null, {
      DPoP: oauth.DPoP({}, keyPair),
      [oauth.customFetch]: (url, init) => {
        sent = new Request(url, init as RequestInit);
        return Promise.resolve(new Response("{}"));
      },
    });
    expect(sent!.headers.get("authorization")).toBe(`DPoP ${bound.accessToken}`);
    const token = await verifier().verifyRequest(sent!);
    expect(token.confirmation).toEqual({ jkt });
  });

  it("refuses the same access token presented as a Bearer token", async () => {
    const request = new Request(ME, { headers: { authorization: `Bearer ${bound.accessToken}`, dpop: await proof() } });
    await refused(verifier().verifyRequest(request), "invalid_token", /bound to a key \(DPoP\)/);
    await refused(verifier().verifyToken(bound.accessToken), "invalid_token", /bound to a key/);
  });

  it("refuses a DPoP request without a proof", async () => {
    await refused(verifier().verifyRequest(dpopRequest(ME, bound.accessToken)), "invalid_dpop_proof", /no DPoP proof/);
  });

  it("refuses a proof signed by another key (cnf.jkt mismatch)", async () => {
    const other = await proof({}, {}, otherKeyPair);
    await refused(verifier().verifyRequest(dpopRequest(ME, bound.accessToken, other)), "invalid_token", /not bound to/);
  });

  it("refuses a proof made for another method (htm)", async () => {
    const post = await proof({ htm: "POST" });
    await refused(verifier().verifyRequest(dpopRequest(ME, bound.accessToken, post)), "invalid_dpop_proof", /htm/);
    const get = await proof();
    const request = dpopRequest(ME, bound.accessToken, get, { method: "POST" });
    await refused(verifier().verifyRequest(request), "invalid_dpop_proof", /htm/);
    await refused(verifier().verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ htm: "get" }))), "invalid_dpop_proof", /htm/);
  });

  it("refuses a proof made for another URL (htu), ignoring query and fragment only", async () => {
    const v = verifier();
    for (const htu of ["https://api.example.test/other", "https://evil.example.test/me", "http://api.example.test/me", "/me"]) {
      await refused(v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ htu }))), "invalid_dpop_proof", /htu/);
    }
    await refused(v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ htu: undefined }))), "invalid_dpop_proof", /htu/);
    // Query and fragment do not count, on either side; case of scheme and host and the default port do not either.
    const request = dpopRequest(`${ME}?page=2`, bound.accessToken, await proof({ htu: "HTTPS://API.example.test:443/me?x#y" }));
    expect((await v.verifyRequest(request)).subject).toBe("alice");
  });

  it("refuses a stale or future proof (iat), and accepts one within the window plus the clock tolerance", async () => {
    const v = verifier(); // window 60 s + tolerance 30 s
    const now = Math.floor(Date.now() / 1000);
    for (const iat of [now - 95, now + 95, now - 3600]) {
      await refused(v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ iat }))), "invalid_dpop_proof", /iat/);
    }
    await refused(v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ iat: undefined }))), "invalid_dpop_proof", /iat/);
    await refused(v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ iat: String(now) }))), "invalid_dpop_proof", /iat/);
    for (const iat of [now - 85, now + 85]) {
      expect((await v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ iat })))).subject).toBe("alice");
    }
    // A narrower window: proofWindowSeconds 5 + clockToleranceSeconds 0.
    const strict = verifier({ clockToleranceSeconds: 0, dpop: { proofWindowSeconds: 5 } });
    await refused(strict.verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ iat: now - 10 }))), "invalid_dpop_proof", /iat/);
    expect((await strict.verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ iat: now - 2 })))).subject).toBe("alice");
  });

  it("refuses a proof made for another access token (ath), or without ath", async () => {
    const v = verifier();
    const forPlain = await proof({ token: plain.accessToken });
    await refused(v.verifyRequest(dpopRequest(ME, bound.accessToken, forPlain)), "invalid_dpop_proof", /ath/);
    const wrong = await proof({ ath: "x".repeat(43) });
    await refused(v.verifyRequest(dpopRequest(ME, bound.accessToken, wrong)), "invalid_dpop_proof", /ath/);
    const none = await proof({ token: undefined });
    await refused(v.verifyRequest(dpopRequest(ME, bound.accessToken, none)), "invalid_dpop_proof", /no ath/);
  });

  it("refuses a replayed proof (the same jti twice)", async () => {
    const v = verifier();
    const once = await proof();
    expect((await v.verifyRequest(dpopRequest(ME, bound.accessToken, once))).subject).toBe("alice");
    await refused(v.verifyRequest(dpopRequest(ME, bound.accessToken, once)), "invalid_dpop_proof", /used before/);
    // A new proof reusing the jti is a replay too; a new jti is not.
    const jti = claimsOf(once).jti as string;
    await refused(v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ jti, iat: claimsOf(once).iat + 1 }))), "invalid_dpop_proof", /used before/);
    expect((await v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof()))).subject).toBe("alice");
  });

  it("refuses replays across verifiers that share a replay cache, and only then", async () => {
    const replayCache = createDpopReplayCache();
    const [a, b] = [verifier({ dpop: { replayCache } }), verifier({ dpop: { replayCache } })];
    const once = await proof();
    await a.verifyRequest(dpopRequest(ME, bound.accessToken, once));
    await refused(b.verifyRequest(dpopRequest(ME, bound.accessToken, once)), "invalid_dpop_proof", /used before/);
    // A verifier with a cache of its own has not seen it.
    expect((await verifier().verifyRequest(dpopRequest(ME, bound.accessToken, once))).subject).toBe("alice");
  });

  it("passes a custom replay cache the proof's hashed identity and when it may be forgotten", async () => {
    const calls: [string, number][] = [];
    const v = verifier({ dpop: { replayCache: { use: (id, expiresAt) => (calls.push([id, expiresAt]), true) } } });
    const iat = Math.floor(Date.now() / 1000);
    await v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof({ iat })));
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(calls[0]![1]).toBe((iat + 90) * 1000);
    // A cache that fails makes the verification fail as a server problem, never as a pass.
    const broken = verifier({ dpop: { replayCache: { use: () => Promise.reject(new Error("redis down")) } } });
    const failure = await rejection(broken.verifyRequest(dpopRequest(ME, bound.accessToken, await proof())));
    expect(failure.code).toBe("server_error");
  });

  it("refuses malformed and unacceptable proofs", async () => {
    const v = verifier({ dpop: { algorithms: ["ES256", "RS256"] } });
    const valid = await proof();
    const [h, p] = valid.split(".") as [string, string, string];
    const header = JSON.parse(atob(h.replace(/-/g, "+").replace(/_/g, "/")));
    const cases: [string, string, RegExp][] = [
      ["not a JWS", "not-a-jwt", /well-formed/],
      ["two proofs", `${valid}, ${await proof()}`, /well-formed/],
      ["too long", `${h}.${p}.${"A".repeat(9_000)}`, /too long/],
      ["tampered payload", `${h}.${encodeJson({ ...claimsOf(valid), htm: "GET", jti: "other" })}.${valid.split(".")[2]}`, /signature/],
      ["no typ", await proof({}, { typ: undefined }), /dpop\+jwt/],
      ["typ JWT", await proof({}, { typ: "JWT" }), /dpop\+jwt/],
      ["typ at+jwt", await proof({}, { typ: "at+jwt" }), /dpop\+jwt/],
      ["alg none", `${encodeJson({ ...header, alg: "none" })}.${p}.`, /signing algorithm is not accepted/],
      ["alg HS256", await proof({}, { alg: "HS256" }), /signing algorithm is not accepted/],
      ["crit", await proof({}, { crit: ["htm"] }), /critical/],
      ["no jwk", await proof({}, { jwk: undefined }), /no public key/],
      ["jwk a string", await proof({}, { jwk: "key" }), /no public key/],
      ["private jwk", await proof({}, { jwk: await crypto.subtle.exportKey("jwk", keyPair.privateKey) }), /private/],
      ["symmetric jwk", await proof({}, { jwk: { kty: "oct", k: "c2VjcmV0" } }), /private or symmetric/],
      ["jwk of another type", await proof({}, { alg: "RS256", jwk: header.jwk }), /does not fit/],
      ["jwk on another curve", await proof({}, { jwk: { ...header.jwk, crv: "P-384" } }), /does not fit/],
      ["jwk missing y", await proof({}, { jwk: { ...header.jwk, y: undefined } }), /cannot be used|incomplete/],
      ["no jti", await proof({ jti: undefined }), /jti/],
      ["empty jti", await proof({ jti: "" }), /jti/],
      ["huge jti", await proof({ jti: "j".repeat(300) }), /jti/],
      ["no htm", await proof({ htm: undefined }), /htm/],
      ["nonce a number", await proof({ nonce: 7 }), /nonce/],
    ];
    for (const [name, value, description] of cases) {
      const failure = await rejection(v.verifyRequest(dpopRequest(ME, bound.accessToken, value)));
      expect(failure.code, name).toBe("invalid_token");
      expect(failure.error, name).toBe("invalid_dpop_proof");
      expect(failure.errorDescription, name).toMatch(description);
    }
  });

  it("refuses a proof whose algorithm dpop.algorithms does not list", async () => {
    const rsaOnly = verifier({ dpop: { algorithms: ["RS256", "PS256"] } });
    await refused(rsaOnly.verifyRequest(dpopRequest(ME, bound.accessToken, await proof())), "invalid_dpop_proof", /signing algorithm is not accepted/);
    const esToo = verifier({ dpop: { algorithms: ["RS256", "ES256"] } });
    expect((await esToo.verifyRequest(dpopRequest(ME, bound.accessToken, await proof()))).subject).toBe("alice");
  });

  it("refuses a token that is not DPoP-bound presented with the DPoP scheme, and takes it as a Bearer token", async () => {
    const v = verifier();
    const forPlain = await makeProof(keyPair, { htm: "GET", htu: ME, token: plain.accessToken });
    await refused(v.verifyRequest(dpopRequest(ME, plain.accessToken, forPlain)), "invalid_token", /not DPoP-bound/);
    const bearer = new Request(ME, { headers: { authorization: `Bearer ${plain.accessToken}` } });
    const token = await v.verifyRequest(bearer);
    expect(token.subject).toBe("carol");
    expect(token.confirmation).toBeUndefined();
  });

  it("with dpop.required, refuses Bearer tokens as an unsupported scheme", async () => {
    const v = verifier({ dpop: { required: true } });
    const bearer = new Request(ME, { headers: { authorization: `Bearer ${plain.accessToken}` } });
    const failure = await rejection(v.verifyRequest(bearer));
    expect(failure.code).toBe("invalid_token");
    expect(failure.error).toBeUndefined();
    expect(failure.errorDescription).toMatch(/only DPoP-bound/);
    await rejection(v.verifyToken(plain.accessToken));
    expect((await v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof()))).subject).toBe("alice");
  });

  it("with dpop: false, answers the DPoP scheme like an unsupported one and still refuses bound tokens", async () => {
    const v = verifier({ dpop: false });
    const failure = await rejection(v.verifyRequest(dpopRequest(ME, bound.accessToken, await proof())));
    expect(failure.code).toBe("invalid_token");
    expect(failure.error).toBeUndefined();
    expect(failure.errorDescription).toMatch(/does not accept DPoP/);
    const bearer = new Request(ME, { headers: { authorization: `Bearer ${bound.accessToken}` } });
    await refused(v.verifyRequest(bearer), "invalid_token", /bound to a key \(cnf\)/);
  });

  it("checks htu against dpop.requestUrl when a proxy changed the URL", async () => {
    const v = verifier({ dpop: { requestUrl: (request) => new URL(new URL(request.url).pathname, "https://api.example.test") } });
    const internal = "http://10.0.0.7:8080/me";
    expect((await v.verifyRequest(dpopRequest(internal, bound.accessToken, await proof()))).subject).toBe("alice");
    const direct = await proof({ htu: internal });
    await refused(v.verifyRequest(dpopRequest(internal, bound.accessToken, direct)), "invalid_dpop_proof", /htu/);
  });

  it("refuses bad dpop options with invalid_options", () => {
    const bad: unknown[] = [
      { algorithms: [] },
      { algorithms: ["HS256"] },
      { algorithms: ["none"] },
      { proofWindowSeconds: -1 },
      { proofWindowSeconds: Number.NaN },
      { replayCache: {} },
      { nonce: { current: () => "n" } },
      { requestUrl: "https://api.example.test" },
      "yes",
    ];
    for (const dpop of bad) {
      expect(() => verifier({ dpop: dpop as VerifierOptions["dpop"] }), JSON.stringify(dpop)).toThrow(
        expect.objectContaining({ code: "invalid_options" }),
      );
    }
  });
});

describe("createVerifier() with opaque DPoP-bound tokens (introspection)", () => {
  const opaqueVerifier = (options: Partial<VerifierOptions> = {}) => verifier({ audience: OPAQUE_API, ...options });
  const opaqueProof = (claims: Record<string, unknown> = {}, key = keyPair) =>
    makeProof(key, { htm: "GET", htu: ME, token: opaque.accessToken, ...claims });

  it("accepts a valid proof for the key the introspection answer's cnf.jkt names", async () => {
    expect(opaque.accessToken.split(".")).not.toHaveLength(3);
    const token = await opaqueVerifier().verifyRequest(dpopRequest(ME, opaque.accessToken, await opaqueProof()));
    expect(token.type).toBe("opaque");
    expect(token.subject).toBe("bob");
    expect(token.claims.token_type).toBe("DPoP");
    expect(token.confirmation).toEqual({ jkt });
  });

  it("refuses it as a Bearer token, with another key, for another URL, or replayed", async () => {
    const v = opaqueVerifier();
    const bearer = new Request(ME, { headers: { authorization: `Bearer ${opaque.accessToken}` } });
    await refused(v.verifyRequest(bearer), "invalid_token", /bound to a key/);
    await refused(v.verifyRequest(dpopRequest(ME, opaque.accessToken, await opaqueProof({}, otherKeyPair))), "invalid_token", /not bound to/);
    await refused(v.verifyRequest(dpopRequest(ME, opaque.accessToken, await opaqueProof({ htu: `${API}other` }))), "invalid_dpop_proof", /htu/);
    await refused(v.verifyRequest(dpopRequest(ME, opaque.accessToken, await opaqueProof({ token: bound.accessToken }))), "invalid_dpop_proof", /ath/);
    const once = await opaqueProof();
    await v.verifyRequest(dpopRequest(ME, opaque.accessToken, once));
    // The second time the introspection answer comes from the cache; the proof is checked all the same.
    await refused(v.verifyRequest(dpopRequest(ME, opaque.accessToken, once)), "invalid_dpop_proof", /used before/);
  });
});

describe("createDpopReplayCache()", () => {
  it("answers true once per id until the entry expires", () => {
    let now = 1_000_000;
    const cache = createDpopReplayCache({ now: () => now });
    expect(cache.use("a", now + 1_000)).toBe(true);
    expect(cache.use("a", now + 1_000)).toBe(false);
    expect(cache.use("b", now + 1_000)).toBe(true);
    // An entry is kept through its expiresAt, inclusive (test/server/dpop_replay_cache.test.ts): gone 1 ms later.
    now += 1_000;
    expect(cache.use("a", now + 1_000)).toBe(false);
    now += 1;
    expect(cache.use("a", now + 1_000)).toBe(true);
    expect(cache.use("a", now + 1_000)).toBe(false);
  });

  it("stays within maxEntries, forgetting expired entries only, and refuses new ones while full", () => {
    let now = 0;
    const cache = createDpopReplayCache({ maxEntries: 3, now: () => now });
    expect(cache.use("old", 10)).toBe(true);
    expect(cache.use("x", 1_000)).toBe(true);
    expect(cache.use("y", 1_000)).toBe(true);
    now = 20; // "old" expired: it goes, and nothing live is forgotten
    expect(cache.use("z", 1_000)).toBe(true);
    expect(cache.use("x", 1_000)).toBe(false);
    expect(cache.use("y", 1_000)).toBe(false);
    // Full of live entries: "w" is refused (fail closed) and "x" is not forgotten (test/server/dpop_replay_cache.test.ts).
    expect(() => cache.use("w", 1_000)).toThrow(expect.objectContaining({ code: "invalid_token", error: "invalid_dpop_proof" }));
    expect(cache.use("x", 1_000)).toBe(false);
    expect(cache.use("z", 1_000)).toBe(false);
  });

  it("refuses a bad maxEntries", () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      expect(() => createDpopReplayCache({ maxEntries })).toThrow(expect.objectContaining({ code: "invalid_options" }));
    }
  });
});

describe("jwkThumbprint()", () => {
  it("computes the RFC 7638 §3.1 example", async () => {
    const jwk = {
      kty: "RSA",
      n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
      e: "AQAB",
      alg: "RS256",
      kid: "2011-04-29",
    };
    expect(await jwkThumbprint(jwk)).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  });

  it("throws a TypeError for a key it cannot fingerprint", async () => {
    await expect(jwkThumbprint({ kty: "oct", k: "c2VjcmV0" })).rejects.toThrow(TypeError);
    await expect(jwkThumbprint({ kty: "EC", crv: "P-256", x: "abc" })).rejects.toThrow(TypeError);
  });
});

describe("wwwAuthenticate() and unauthorizedResponse() for verifier failures", () => {
  const ALGS = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519";
  const resourceMetadata = "https://api.example.test/.well-known/oauth-protected-resource";

  /** The challenges a client parses from the response (oauth4webapi, as the CLI does). */
  async function parsed(response: Response): Promise<oauth.WWWAuthenticateChallenge[]> {
    try {
      await oauth.protectedResourceRequest("t", "GET", new URL(ME), new Headers(), null, {
        [oauth.customFetch]: () => Promise.resolve(response),
      });
    } catch (error) {
      expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
      return (error as oauth.WWWAuthenticateChallengeError).cause;
    }
    throw new Error("expected a challenge");
  }

  const failure = (v: Verifier, request: Request, scopes?: string[]) => rejection(v.verifyRequest(request, { scopes }));

  it("offers Bearer and DPoP (with algs) without error to a request without credentials (RFC 9449 §7.2)", async () => {
    const error = await failure(verifier(), new Request(ME));
    expect(wwwAuthenticate(error)).toBe(`Bearer, DPoP algs="${ALGS}"`);
    const response = unauthorizedResponse(error, { realm: "api", resourceMetadata });
    expect(response.status).toBe(401);
    const challenges = await parsed(response);
    expect(challenges.map((c) => c.scheme)).toEqual(["bearer", "dpop"]);
    for (const challenge of challenges) {
      expect(challenge.parameters.error).toBeUndefined();
      expect(challenge.parameters.realm).toBe("api");
      expect(challenge.parameters.resource_metadata).toBe(resourceMetadata);
    }
    expect(challenges[1]!.parameters.algs).toBe(ALGS);
  });

  it("puts the error on the Bearer challenge for a Bearer request", async () => {
    const error = await failure(verifier(), new Request(ME, { headers: { authorization: `Bearer ${bound.accessToken}` } }));
    const [bearer, dpop] = await parsed(unauthorizedResponse(error));
    expect(bearer!.parameters.error).toBe("invalid_token");
    expect(bearer!.parameters.error_description).toMatch(/bound to a key/);
    expect(dpop!.parameters).toEqual({ algs: ALGS });
  });

  it("puts the error on the DPoP challenge for a DPoP request (RFC 9449 §7.1)", async () => {
    const error = await failure(verifier(), dpopRequest(ME, bound.accessToken, await proof({ htm: "POST" })));
    expect(wwwAuthenticate(error)).toMatch(/^Bearer, DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="/);
    const response = unauthorizedResponse(error);
    expect(response.status).toBe(401);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.clone().json()).toEqual({ error: "invalid_dpop_proof", error_description: error.errorDescription });
    const [bearer, dpop] = await parsed(response);
    expect(bearer!.parameters).toEqual({});
    expect(dpop!.parameters.error).toBe("invalid_dpop_proof");
    expect(dpop!.parameters.algs).toBe(ALGS);
    // bearerChallenge() alone does not pin a DPoP failure on the Bearer scheme.
    expect(bearerChallenge(error)).toBe("Bearer");
  });

  it("answers insufficient_scope on the DPoP challenge with 403", async () => {
    const error = await failure(verifier(), dpopRequest(ME, bound.accessToken, await proof()), ["api:admin"]);
    const response = unauthorizedResponse(error);
    expect(response.status).toBe(403);
    const [, dpop] = await parsed(response);
    expect(dpop!.parameters.error).toBe("insufficient_scope");
    expect(dpop!.parameters.scope).toBe("api:admin");
  });

  it("offers only DPoP with dpop.required, and only Bearer with dpop: false", async () => {
    const required = verifier({ dpop: { required: true, algorithms: ["ES256"] } });
    const plainBearer = new Request(ME, { headers: { authorization: `Bearer ${plain.accessToken}` } });
    expect(wwwAuthenticate(await failure(required, new Request(ME)))).toBe('DPoP algs="ES256"');
    expect(wwwAuthenticate(await failure(required, plainBearer))).toBe('DPoP algs="ES256"');
    const off = verifier({ dpop: false });
    expect(wwwAuthenticate(await failure(off, new Request(ME)))).toBe("Bearer");
    expect(wwwAuthenticate(await failure(off, dpopRequest(ME, bound.accessToken, await proof())))).toBe("Bearer");
  });

  it("answers 503 when the issuer cannot be asked and 500 for anything else", async () => {
    const down = () => Promise.reject(new TypeError("fetch failed"));
    const unreachable = verifier({ http: { ...http, fetch: down } });
    const error = await failure(unreachable, dpopRequest(ME, bound.accessToken, await proof()));
    expect(error.code).toBe("network_error");
    const response = unauthorizedResponse(error);
    expect(response.status).toBe(503);
    expect(response.headers.get("www-authenticate")).toBeNull();
    expect(response.headers.get("retry-after")).toBe("5");
    expect(unauthorizedResponse(new Error("boom")).status).toBe(500);
    expect(unauthorizedResponse(new CliAuthError("invalid_options", "bad")).status).toBe(500);
  });
});

describe(`identityHandler() with DPoP on a real ${runtimeKey()} server on loopback`, () => {
  let served: Served;
  let requests = 0;
  beforeAll(async () => {
    const handler = identityHandler(verifier(), { realm: "api" });
    served = await serve((request) => (requests++, handler(request)));
  });
  afterAll(async () => {
    await served?.close();
  });

  it("answers 200 to oauth4webapi's protectedResourceRequest() with the DPoP handle", async () => {
    const response = await oauth.protectedResourceRequest(bound.accessToken, "GET", new URL(`${served.url}/me`), new Headers(), null, {
      DPoP: oauth.DPoP({}, keyPair),
      [oauth.allowInsecureRequests]: true,
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.subject).toBe("alice");
    expect(body.claims.cnf).toEqual({ jkt });
  });

  it("refuses the same token sent as Bearer, with an invalid_token challenge", async () => {
    const error = await oauth.protectedResourceRequest(bound.accessToken, "GET", new URL(`${served.url}/me`), new Headers(), null, {
      [oauth.allowInsecureRequests]: true,
    }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const bearer = (error as oauth.WWWAuthenticateChallengeError).cause.find((c) => c.scheme === "bearer");
    expect(bearer?.parameters.error).toBe("invalid_token");
  });

  it("refuses a captured request sent again (replayed proof)", async () => {
    let captured: { url: string; init: RequestInit } | undefined;
    await oauth.protectedResourceRequest(bound.accessToken, "GET", new URL(`${served.url}/me`), new Headers(), null, {
      DPoP: oauth.DPoP({}, keyPair),
      [oauth.allowInsecureRequests]: true,
      [oauth.customFetch]: (url, init) => {
        captured = { url, init: init as RequestInit };
        return fetch(url, init as RequestInit);
      },
    });
    requests = 0;
    const again = await fetch(captured!.url, captured!.init);
    expect(requests).toBe(1);
    expect(again.status).toBe(401);
    expect(again.headers.get("www-authenticate")).toMatch(/DPoP realm="api", error="invalid_dpop_proof"/);
    expect((await again.json()).error_description).toMatch(/used before/);
  });
});

describe("createVerifier() with proofs signed by RSA and Ed25519 keys (tokens from a stand-in issuer)", () => {
  let issuer: KeyServer;
  let signingKey: TestKey;
  beforeAll(async () => {
    signingKey = await generateTestKey("ES256", "issuer-key");
    issuer = await startKeyServer([signingKey]);
  });
  afterAll(async () => {
    await issuer?.close();
  });

  /** An access token of the stand-in issuer bound to `jwk`. */
  const tokenFor = async (jwk: JsonWebKey) =>
    signJwt(signingKey, keyServerClaims(issuer.issuer, API, { cnf: { jkt: await jwkThumbprint(jwk) } }));
  const standIn = () => createVerifier({ issuer: issuer.issuer, audience: API, http });

  it("accepts EdDSA, PS256 and RS256 proofs, and one RSA key under both RSA algorithms", async () => {
    const ed = await generateTestKey("EdDSA", "ed");
    const pss = await generateTestKey("PS256", "pss");
    // The same RSA key material, imported for RSASSA-PKCS1-v1_5 as well.
    const privateJwk = await crypto.subtle.exportKey("jwk", pss.privateKey);
    const rsassa = await crypto.subtle.importKey(
      "jwk",
      { ...privateJwk, alg: undefined, key_ops: ["sign"] },
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const v = standIn();
    const edToken = await tokenFor(ed.publicJwk);
    const edSigner = { alg: "EdDSA", sign: ed.sign, privateKey: ed.privateKey, jwk: { ...ed.publicJwk, kid: undefined } };
    const edResult = await v.verifyRequest(dpopRequest(ME, edToken, await makeProof(edSigner, { htu: ME, token: edToken })));
    expect(edResult.confirmation?.jkt).toBe(await jwkThumbprint(ed.publicJwk));

    const { kty, n, e } = pss.publicJwk;
    const rsaToken = await tokenFor({ kty, n, e });
    const ps256 = { alg: "PS256", sign: pss.sign, privateKey: pss.privateKey, jwk: { kty, n, e } };
    const rs256 = { alg: "RS256", sign: { name: "RSASSA-PKCS1-v1_5" }, privateKey: rsassa, jwk: { kty, n, e } };
    for (const signer of [ps256, rs256, ps256]) {
      const result = await v.verifyRequest(dpopRequest(ME, rsaToken, await makeProof(signer, { htu: ME, token: rsaToken })));
      expect(result.confirmation?.jkt, signer.alg).toBe(await jwkThumbprint({ kty, n, e }));
    }
    // A PS256 signature presented as RS256 is refused.
    const mislabelled = await makeProof(ps256, { htu: ME, token: rsaToken }, { alg: "RS256" });
    await refused(v.verifyRequest(dpopRequest(ME, rsaToken, mislabelled)), "invalid_dpop_proof", /signature/);
  });

  it("refuses a proof key of 1024-bit RSA", async () => {
    const short = await generateTestKey("RS256-1024", "short");
    const { kty, n, e } = short.publicJwk;
    const token = await tokenFor({ kty, n, e });
    const proofOf = await makeProof({ alg: "RS256", sign: short.sign, privateKey: short.privateKey, jwk: { kty, n, e } }, { htu: ME, token });
    await refused(standIn().verifyRequest(dpopRequest(ME, token, proofOf)), "invalid_dpop_proof", /too short/);
  });
});
