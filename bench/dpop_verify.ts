// What a DPoP proof costs per request beside a plain Bearer request, in one run, on both sides: the client making
// the request with oauth4webapi (a DPoP handle signs a proof and hashes the token each time), and the API verifying
// it with @x/cli-auth's verifier (token, then proof signature, htm/htu/iat/ath, cnf.jkt and the replay cache).
// Prints figures; gates nothing.
//
//   npx bun bench/dpop_verify.ts
//   npx deno run -A bench/dpop_verify.ts
//   node bench/dpop_verify.mjs          (Node 20 runs no .ts: the wrapper bundles this file first)
//
// Tokens are signed here with Web Crypto and the issuer's JWKS is served on loopback (node:http, which all three
// runtimes have). Every verified DPoP request carries its own proof (a fresh jti, as clients send), made beforehand.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as oauth from "oauth4webapi";
import { createVerifier, jwkThumbprint } from "../server/mod.ts";

const ROUNDS = 5;
const PER_ROUND = 2_000;
const WARMUP = 300;
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
const jkt = await jwkThumbprint(await crypto.subtle.exportKey("jwk", dpopKey.publicKey));
const bearerToken = await accessToken({});
const boundToken = await accessToken({ cnf: { jkt } });

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

// Requests for the verifier: the Bearer one reused, DPoP ones each with a fresh proof from the client above.
const bearerRequest = new Request(URL_ME, { headers: { authorization: `Bearer ${bearerToken}` } });
const dpopRequests: Request[] = [];
for (let i = 0; i < WARMUP + ROUNDS * PER_ROUND; i++) {
  await clientDpop();
  dpopRequests.push(captured!);
}
const verifier = createVerifier({ issuer, audience: AUDIENCE, http: { allowInsecureRequests: true } });
let next = 0;
const serverBearer = () => verifier.verifyRequest(bearerRequest);
const serverDpop = () => verifier.verifyRequest(dpopRequests[next++]!);

// Everything must pass before anything is timed.
if ((await serverBearer()).confirmation !== undefined) throw new Error("the Bearer token verified as DPoP");
if ((await serverDpop()).confirmation?.jkt !== jkt) throw new Error("the DPoP request did not verify");
await clientBearer();
if (captured!.headers.get("authorization")?.startsWith("Bearer ") !== true) throw new Error("no Bearer request");

/** Requests per second: PER_ROUND sequential calls per round, the candidates taking turns, the best round kept. */
async function measure(candidates: (() => Promise<unknown>)[]): Promise<number[]> {
  for (const fn of candidates) for (let i = 0; i < WARMUP - 1; i++) await fn();
  const best = candidates.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, fn] of candidates.entries()) {
      const started = performance.now();
      for (let i = 0; i < PER_ROUND; i++) await fn();
      best[index] = Math.max(best[index]!, (PER_ROUND * 1000) / (performance.now() - started));
    }
  }
  return best;
}

const [cb, cd, sb, sd] = (await measure([clientBearer, clientDpop, serverBearer, serverDpop])) as [number, number, number, number];
const format = (n: number) => Math.round(n).toLocaleString("en-US").padStart(9);
const micro = (bearer: number, dpopRate: number) => `+${(1e6 / dpopRate - 1e6 / bearer).toFixed(0)} µs`.padStart(9);
console.log(`DPoP proof cost per request beside Bearer, ES256, sequential: ${runtime}`);
console.log(`side                                   Bearer          DPoP   per request`);
console.log(`client  oauth4webapi request       ${format(cb)}/s   ${format(cd)}/s   ${micro(cb, cd)}`);
console.log(`server  @x/cli-auth verifyRequest  ${format(sb)}/s   ${format(sd)}/s   ${micro(sb, sd)}`);
console.log(`best of ${ROUNDS} interleaved rounds of ${PER_ROUND} requests; each DPoP request verified carries its own proof`);
await new Promise<void>((resolve) => server.close(() => resolve()));
