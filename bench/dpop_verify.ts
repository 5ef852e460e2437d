// What a DPoP proof costs per request, in one run, on both sides:
// - the client making the request with oauth4webapi (a DPoP handle signs a proof and hashes the token each time);
// - the API verifying it with @x/cli-auth's verifier (token, then proof signature, htm/htu/iat/ath, cnf.jkt and the
//   replay cache), before (the hand-written JWS code, extracted from git by bench/_before.ts) and after (on jose),
//   beside the floor: a bare crypto.subtle.verify of one proof's ES256 signature;
// - the verifier's throughput with the in-memory replay cache beside redisReplayCache() on a private redis-server on
//   loopback (Bun's RedisClient on Bun, node-redis on Node and Deno), sequential and 32 requests in flight.
// Ratios, not absolute times, are the point: the candidates of a table take turns round by round. Prints figures;
// gates nothing (no redis-server, no git history: those lines are left out, said so).
//
//   npx bun bench/dpop_verify.ts
//   npx deno run -A bench/dpop_verify.ts
//   node bench/dpop_verify.mjs          (Node 20 runs no .ts: the wrapper bundles this file first)
//
// Tokens and proofs are signed here with Web Crypto and the issuer's JWKS is served on loopback (node:http, which all
// three runtimes have). Every verified DPoP request carries its own proof (a fresh jti, as clients send), made just
// before the table that uses it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as oauth from "oauth4webapi";
import { createVerifier, redisReplayCache } from "../server/mod.ts";
import { jwkThumbprint } from "../server/_dpop_proof.ts";
import { connectRedis, hasRedisServer, type PrivateRedis, type RedisConnection, startRedis } from "../test/server/support/redis.ts";
import { loadServerBefore } from "./_before.ts";

const ROUNDS = 5;
const PER_ROUND = 500;
const WARMUP = 100;
const CONCURRENCY = 32;
const AUDIENCE = "https://api.example.test/";
const URL_ME = "https://api.example.test/me";

const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string }; process?: { versions: { node: string } } };
const runtime = g.Deno ? `deno ${g.Deno.version.deno}` : g.Bun ? `bun ${g.Bun.version}` : `node ${g.process?.versions.node}`;

const b64u = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const json64 = (value: unknown) => b64u(new TextEncoder().encode(JSON.stringify(value)));
const ES256 = { name: "ECDSA", hash: "SHA-256" } as EcdsaParams;

const issuerKey = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", issuerKey.publicKey);
let issuer = "";
const server: Server = createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  if (req.url === "/.well-known/openid-configuration") {
    res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, response_types_supported: ["code"] }));
  } else if (req.url === "/jwks") {
    res.end(JSON.stringify({ keys: [{ kty, crv, x, y, kid: "bench", alg: "ES256", use: "sig" }] }));
  } else {
    res.statusCode = 404;
    res.end("{}");
  }
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function accessToken(extra: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const header = json64({ alg: "ES256", kid: "bench", typ: "at+jwt" });
  const payload = json64({ iss: issuer, aud: AUDIENCE, sub: "alice", client_id: "cli", scope: "api:read", iat: now, exp: now + 3600, jti: "bench", ...extra });
  const signature = new Uint8Array(await crypto.subtle.sign(ES256, issuerKey.privateKey, new TextEncoder().encode(`${header}.${payload}`)));
  return `${header}.${payload}.${b64u(signature)}`;
}

// The client's DPoP key (as generateDpopKey makes it) and tokens: one plain, one bound to that key.
const dpopKey = await oauth.generateKeyPair("ES256", { extractable: true });
const dpopJwk = await crypto.subtle.exportKey("jwk", dpopKey.publicKey);
const jkt = await jwkThumbprint(dpopJwk);
const bearerToken = await accessToken({});
const boundToken = await accessToken({ cnf: { jkt } });
const ath = b64u(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(boundToken))));
const proofHeader = json64({ typ: "dpop+jwt", alg: "ES256", jwk: { kty: dpopJwk.kty, crv: dpopJwk.crv, x: dpopJwk.x, y: dpopJwk.y } });

/** The requests oauth4webapi makes (captured, not sent): the client's whole cost, proof included. */
const dpop = oauth.DPoP({}, dpopKey);
let captured: Request | undefined;
const capture = (url: string, init: unknown) => {
  captured = new Request(url, init as RequestInit);
  return Promise.resolve(new Response(null, { status: 204 }));
};
const clientBearer = () =>
  oauth.protectedResourceRequest(bearerToken, "GET", new URL(URL_ME), new Headers(), null, { [oauth.customFetch]: capture });
const clientDpop = () =>
  oauth.protectedResourceRequest(boundToken, "GET", new URL(URL_ME), new Headers(), null, { DPoP: dpop, [oauth.customFetch]: capture });

/** `count` DPoP requests, each with a fresh proof (what a client sends), and one proof's signature for the floor. */
async function dpopRequests(count: number): Promise<Request[]> {
  const requests: Request[] = [];
  const iat = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    const input = `${proofHeader}.${json64({ jti: crypto.randomUUID(), htm: "GET", htu: URL_ME, iat, ath })}`;
    const signature = new Uint8Array(await crypto.subtle.sign(ES256, dpopKey.privateKey, new TextEncoder().encode(input)));
    requests.push(new Request(URL_ME, { headers: { authorization: `DPoP ${boundToken}`, dpop: `${input}.${b64u(signature)}` } }));
  }
  return requests;
}
const floorInput = new TextEncoder().encode(`${proofHeader}.${json64({ jti: "floor", htm: "GET", htu: URL_ME, iat: 0, ath })}`);
const floorSignature = new Uint8Array(await crypto.subtle.sign(ES256, dpopKey.privateKey, floorInput));
// Imported from the proof's JWK, as a verifier does (some runtimes verify slower with a generated key object).
const floorKey = await crypto.subtle.importKey("jwk", { kty: dpopJwk.kty, crv: dpopJwk.crv, x: dpopJwk.x, y: dpopJwk.y }, {
  name: "ECDSA",
  namedCurve: "P-256",
}, true, ["verify"]);
const floor = () => crypto.subtle.verify(ES256, floorKey, floorSignature, floorInput);

/** Calls per second: PER_ROUND calls per round (`inFlight` at a time), the candidates taking turns, best round kept. */
async function measure(candidates: (() => Promise<unknown>)[], inFlight: number[] = candidates.map(() => 1)): Promise<number[]> {
  const run = async (fn: () => Promise<unknown>, count: number, width: number) => {
    let left = count;
    await Promise.all(Array.from({ length: width }, async () => {
      while (left-- > 0) await fn();
    }));
  };
  for (const [index, fn] of candidates.entries()) await run(fn, WARMUP, inFlight[index]!);
  const best = candidates.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, fn] of candidates.entries()) {
      const started = performance.now();
      await run(fn, PER_ROUND, inFlight[index]!);
      best[index] = Math.max(best[index]!, (PER_ROUND * 1000) / (performance.now() - started));
    }
  }
  return best;
}

const format = (n: number | undefined) => (n === undefined ? "—".padStart(9) : Math.round(n).toLocaleString("en-US").padStart(9));
const micro = (bearer: number | undefined, dpopRate: number | undefined) =>
  (bearer === undefined || dpopRate === undefined ? "—" : `+${(1e6 / dpopRate - 1e6 / bearer).toFixed(0)} µs`).padStart(9);
const pct = (n: number | undefined, of: number) => (n === undefined ? "—" : `${Math.round((n / of) * 100)} %`).padStart(6);

const base = { issuer, audience: AUDIENCE, http: { allowInsecureRequests: true } };
const before = await loadServerBefore();
console.error(`[dpop_verify] ${before.note}`);
const oldVerifier = before.server?.createVerifier(base);
const verifier = createVerifier(base);
const bearerRequest = new Request(URL_ME, { headers: { authorization: `Bearer ${bearerToken}` } });

// Everything must pass before anything is timed.
const [check] = await dpopRequests(2);
if ((await verifier.verifyRequest(bearerRequest)).confirmation !== undefined) throw new Error("the Bearer token verified as DPoP");
if ((await verifier.verifyRequest(check!)).confirmation?.jkt !== jkt) throw new Error("the DPoP request did not verify (after)");
if (oldVerifier && (await oldVerifier.verifyRequest(bearerRequest)).subject !== "alice") throw new Error("before refused Bearer");
if (oldVerifier && (await oldVerifier.verifyRequest(check!)).confirmation?.jkt !== jkt) throw new Error("the DPoP request did not verify (before)");
if (!(await floor())) throw new Error("bad floor signature");
await clientBearer();
if (captured!.headers.get("authorization")?.startsWith("Bearer ") !== true) throw new Error("no Bearer request");

// One interleaved measurement for both tables: the floor, the client, before and after, and the Redis replay cache
// (sequential and CONCURRENCY in flight) beside the in-memory one.
let redis: PrivateRedis | undefined;
let connection: RedisConnection | undefined;
try {
  let viaRedis: ReturnType<typeof createVerifier> | undefined;
  let redisNote = "no redis-server on this machine (apt-get install redis-server): Redis lines left out";
  if (hasRedisServer()) {
    redis = await startRedis();
    connection = await connectRedis(redis.url);
    viaRedis = createVerifier({ ...base, dpop: { replayCache: redisReplayCache(connection.send, { prefix: "bench:dpop:" }) } });
    const [probe] = await dpopRequests(1);
    if ((await viaRedis.verifyRequest(probe!.clone())).confirmation?.jkt !== jkt) throw new Error("Redis refused a fresh proof");
    if ((await viaRedis.verifyRequest(probe!).catch(() => undefined)) !== undefined) throw new Error("Redis accepted a replay");
    redisNote = `${connection.style} to a private redis-server on loopback`;
  }

  const total = WARMUP + ROUNDS * PER_ROUND;
  /** A candidate that verifies a fresh DPoP request with `v` on each call. */
  const fresh = async (v: { verifyRequest(request: Request): Promise<unknown> } | undefined) => {
    if (!v) return undefined;
    const requests = await dpopRequests(total);
    let next = 0;
    return () => v.verifyRequest(requests[next++]!);
  };
  const table: [string, (() => Promise<unknown>) | undefined, number][] = [
    ["floor", floor, 1],
    ["client bearer", clientBearer, 1],
    ["client dpop", clientDpop, 1],
    ["after bearer", () => verifier.verifyRequest(bearerRequest), 1],
    ["after dpop", await fresh(verifier), 1],
    ["before bearer", oldVerifier && (() => oldVerifier.verifyRequest(bearerRequest)), 1],
    ["before dpop", await fresh(oldVerifier), 1],
    ["redis dpop", await fresh(viaRedis), 1],
    ["memory dpop wide", await fresh(verifier), CONCURRENCY],
    ["redis dpop wide", await fresh(viaRedis), CONCURRENCY],
  ];
  const present = table.filter(([, fn]) => fn !== undefined) as [string, () => Promise<unknown>, number][];
  const rates = await measure(present.map(([, fn]) => fn), present.map(([, , width]) => width));
  const r = Object.fromEntries(present.map(([name], i) => [name, rates[i]])) as Record<string, number | undefined>;
  const fl = r.floor!;

  console.log(`DPoP proof cost per request beside Bearer, ES256, sequential: ${runtime}`);
  console.log(`(% = share of the bare crypto.subtle.verify rate of one ES256 proof signature: ${format(fl).trim()}/s)`);
  console.log(`side                                            Bearer                DPoP       per request`);
  console.log(`client  oauth4webapi request              ${format(r["client bearer"])}/s         ${format(r["client dpop"])}/s        ${micro(r["client bearer"], r["client dpop"])}`);
  console.log(`server  verifyRequest before (hand-written) ${format(r["before bearer"])}/s ${pct(r["before bearer"], fl)}  ${format(r["before dpop"])}/s ${pct(r["before dpop"], fl)}  ${micro(r["before bearer"], r["before dpop"])}`);
  console.log(`server  verifyRequest after (jose)        ${format(r["after bearer"])}/s ${pct(r["after bearer"], fl)}  ${format(r["after dpop"])}/s ${pct(r["after dpop"], fl)}  ${micro(r["after bearer"], r["after dpop"])}`);
  if (r["before bearer"] !== undefined && r["before dpop"] !== undefined) {
    const ratio = (a: number | undefined, b: number | undefined) => `${(a! / b!).toFixed(2)}x`;
    console.log(`server  after/before                          ${ratio(r["after bearer"], r["before bearer"]).padStart(9)}           ${ratio(r["after dpop"], r["before dpop"]).padStart(9)}`);
  }
  console.log(`best of ${ROUNDS} interleaved rounds of ${PER_ROUND} requests; each DPoP request verified carries its own proof; ${before.note}`);

  console.log(`\nDPoP verifications per second, replay cache in memory (the default) vs Redis: ${runtime}`);
  if (viaRedis) {
    const keys = Number(await connection!.send(["DBSIZE"]));
    console.log(`                               in memory          Redis    Redis/memory`);
    console.log(`sequential                  ${format(r["after dpop"])}/s   ${format(r["redis dpop"])}/s   ${(r["redis dpop"]! / r["after dpop"]!).toFixed(2)}x`);
    console.log(`${String(CONCURRENCY).padStart(2)} in flight                ${format(r["memory dpop wide"])}/s   ${format(r["redis dpop wide"])}/s   ${(r["redis dpop wide"]! / r["memory dpop wide"]!).toFixed(2)}x`);
    console.log(`${redisNote}; one SET NX PXAT per proof; ${keys.toLocaleString("en-US")} replay keys at the end (TTL <= 90 s)`);
  } else {
    console.log(redisNote);
  }
} finally {
  await connection?.close().catch(() => {});
  await redis?.stop();
}
await new Promise<void>((resolve) => server.close(() => resolve()));
