// JWT access token verifications per second with a cached JWKS, in one run: @x/cli-auth's verifyToken() before
// (the hand-written JWS/JWKS code, extracted from git by bench/_before.ts) and after (on jose), beside the floor (a
// bare crypto.subtle.verify of the same signature, no parsing or claims) and jose's own jwtVerify with its remote key
// set. Ratios, not absolute times, are the point: the candidates take turns round by round. Prints figures; gates
// nothing.
//
//   npx bun bench/jwt_verify.ts
//   npx deno run -A bench/jwt_verify.ts
//   node bench/jwt_verify.mjs          (Node 20 runs no .ts: the wrapper bundles this file first)
//
// It signs its own tokens with Web Crypto and serves discovery and the JWKS on loopback (node:http, which all three
// runtimes have), so the numbers measure verification, not a provider.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { createVerifier } from "../server/mod.ts";
import { loadServerBefore } from "./_before.ts";

const ROUNDS = 5;
const ROUND_MS = 400;
const AUDIENCE = "https://api.example.test/";

const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string }; process?: { versions: { node: string } } };
const runtime = g.Deno ? `deno ${g.Deno.version.deno}` : g.Bun ? `bun ${g.Bun.version}` : `node ${g.process?.versions.node}`;

const b64u = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const json64 = (value: unknown) => b64u(new TextEncoder().encode(JSON.stringify(value)));

interface Case {
  alg: "ES256" | "RS256" | "EdDSA";
  generate: Algorithm | EcKeyGenParams | RsaHashedKeyGenParams;
  sign: Algorithm | EcdsaParams;
}
const cases: Case[] = [
  { alg: "ES256", generate: { name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams, sign: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams },
  {
    alg: "RS256",
    generate: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as RsaHashedKeyGenParams,
    sign: { name: "RSASSA-PKCS1-v1_5" },
  },
  { alg: "EdDSA", generate: { name: "Ed25519" }, sign: { name: "Ed25519" } },
];

const keys = await Promise.all(cases.map(async (c) => {
  const pair = (await crypto.subtle.generateKey(c.generate, true, ["sign", "verify"])) as CryptoKeyPair;
  const { kty, n, e, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const jwk = JSON.parse(JSON.stringify({ kty, n, e, crv, x, y, kid: `bench-${c.alg}`, alg: c.alg, use: "sig" }));
  // The floor verifies with the public key imported from the JWK, as a verifier holding a JWKS does.
  const importParams = c.alg === "ES256"
    ? { name: "ECDSA", namedCurve: "P-256" }
    : c.alg === "RS256"
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : { name: "Ed25519" };
  const publicKey = await crypto.subtle.importKey("jwk", { kty, n, e, crv, x, y }, importParams, true, ["verify"]);
  return { ...c, pair, jwk, publicKey };
}));

const jwksRequests: Record<string, number> = { before: 0, after: 0, jose: 0 };
let issuer = "";
const server: Server = createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  const url = new URL(req.url ?? "/", "http://x");
  if (url.pathname === "/.well-known/openid-configuration") {
    res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks?for=${url.searchParams.get("for") ?? "after"}`, response_types_supported: ["code"] }));
  } else if (url.pathname === "/jwks") {
    jwksRequests[url.searchParams.get("for") ?? "after"]!++;
    res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
  } else {
    res.statusCode = 404;
    res.end("{}");
  }
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/**
 * Verifications per second for each candidate: timed rounds of sequential awaited calls, the candidates taking turns
 * round by round (so that a busy neighbour or a clock change hits them alike), the best round of each kept.
 */
async function measure(candidates: (() => Promise<unknown>)[]): Promise<number[]> {
  for (const fn of candidates) for (let i = 0; i < 300; i++) await fn();
  const best = candidates.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, fn] of candidates.entries()) {
      let count = 0;
      const started = performance.now();
      let elapsed = 0;
      while (elapsed < ROUND_MS) {
        for (let i = 0; i < 50; i++) await fn();
        count += 50;
        elapsed = performance.now() - started;
      }
      best[index] = Math.max(best[index]!, (count * 1000) / elapsed);
    }
  }
  return best;
}

/** A fetch that tags discovery with who is asking, so each verifier's key set requests are counted apart. */
const taggedFetch = (who: string) => (input: string | URL | Request, init?: RequestInit) =>
  globalThis.fetch(String(input).includes("/.well-known/") ? `${String(input)}?for=${who}` : input, init);
const verifierOptions = (who: string) => ({ issuer, audience: AUDIENCE, http: { allowInsecureRequests: true, fetch: taggedFetch(who) } });

const before = await loadServerBefore();
console.error(`[jwt_verify] ${before.note}`);
const oldVerifier = before.server?.createVerifier(verifierOptions("before"));
const verifier = createVerifier(verifierOptions("after"));
const joseKeys = createRemoteJWKSet(new URL(`${issuer}/jwks?for=jose`));

const format = (n: number) => Math.round(n).toLocaleString("en-US").padStart(9);
const rows: string[] = [];
const results: Record<string, Record<string, number>> = {};
for (const k of keys) {
  const now = Math.floor(Date.now() / 1000);
  const header = json64({ alg: k.alg, kid: k.jwk.kid, typ: "at+jwt" });
  const payload = json64({ iss: issuer, aud: AUDIENCE, sub: "alice", client_id: "cli", scope: "api:read", iat: now, exp: now + 3600, jti: "bench" });
  const input = new TextEncoder().encode(`${header}.${payload}`);
  const signature = new Uint8Array(await crypto.subtle.sign(k.sign, k.pair.privateKey, input));
  const token = `${header}.${payload}.${b64u(signature)}`;

  // Everyone must accept the token before anything is timed.
  if ((await verifier.verifyToken(token)).subject !== "alice") throw new Error("cli-auth (after) refused the token");
  if (oldVerifier && (await oldVerifier.verifyToken(token)).subject !== "alice") throw new Error("cli-auth (before) refused the token");
  const options = { issuer, audience: AUDIENCE, typ: "at+jwt" };
  if ((await jwtVerify(token, joseKeys, options)).payload.sub !== "alice") throw new Error("jose refused the token");
  if (!(await crypto.subtle.verify(k.sign, k.publicKey, signature, input))) throw new Error("bad signature");

  const candidates = [
    () => crypto.subtle.verify(k.sign, k.publicKey, signature, input),
    () => verifier.verifyToken(token),
    () => jwtVerify(token, joseKeys, options),
  ];
  if (oldVerifier) candidates.push(() => oldVerifier.verifyToken(token));
  const [floor, after, jose, old] = (await measure(candidates)) as [number, number, number, number | undefined];
  const pct = (n: number | undefined) => (n === undefined ? "—".padStart(6) : `${Math.round((n / floor) * 100)} %`.padStart(6));
  const rate = (n: number | undefined) => (n === undefined ? "—".padStart(9) : format(n));
  const ratio = old === undefined ? "—" : `${(after / old).toFixed(2)}x`;
  rows.push(`${k.alg.padEnd(6)} ${format(floor)}/s  ${rate(old)}/s ${pct(old)}  ${format(after)}/s ${pct(after)}  ${ratio.padStart(6)}  ${format(jose)}/s ${pct(jose)}`);
  results[k.alg] = { floor: Math.round(floor), before: Math.round(old ?? Number.NaN), after: Math.round(after), jose: Math.round(jose) };
}

console.log(`JWT access token verifications per second, cached JWKS, sequential: ${runtime}`);
console.log(`(% = share of the bare crypto.subtle.verify rate; after/before = jose-based verifyToken over the hand-written one)`);
console.log(`alg    crypto.subtle.verify  verifyToken before        verifyToken after    after/before  jose jwtVerify alone`);
for (const row of rows) console.log(row);
console.log(
  `JWKS requests during the run: before ${jwksRequests.before}, after ${jwksRequests.after}, jose ${jwksRequests.jose}; best of ${ROUNDS} interleaved ${ROUND_MS} ms rounds per cell; ${before.note}`,
);
await new Promise<void>((resolve) => server.close(() => resolve()));
