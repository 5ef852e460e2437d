// The issuer's key set (jose's createRemoteJWKSet behind createVerifier), against a stand-in issuer on loopback whose
// keys the test controls: fetch once, reload on unknown kid off cooldown only, max age, fail closed when a refresh
// fails past the max age, timeout, bad answers, and no sharing on Cloudflare Workers. jose times its cooldown and
// max age with Date.now(): simulated time is vitest's fake Date (toFake: ["Date"]), never a sleep.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CliAuthError, createVerifier, identityHandler } from "../../server/mod.ts";
import { claims, generateTestKey, type KeyServer, signJwt, startKeyServer, type TestKey } from "./support/key_server.ts";
import { rejection } from "../support/reject.ts";
import { verifierFor } from "./support/verifier.ts";

const API = "https://api.example.test/";
const http = { allowInsecureRequests: true, timeoutMs: 2_000 };
let server: KeyServer;
let first: TestKey;
let second: TestKey;
let start: number;

beforeEach(async () => {
  [first, second] = await Promise.all([generateTestKey("ES256", "k1"), generateTestKey("ES256", "k2")]);
  server = await startKeyServer([first]);
  start = Date.now();
});
afterEach(async () => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  await server?.close();
});

/** Simulated time from now on: Date only (timers, AbortSignal.timeout and performance.now stay real). */
function simulateTime(): (ms: number) => void {
  vi.useFakeTimers({ toFake: ["Date"], now: start });
  return (ms) => vi.setSystemTime(Date.now() + ms);
}

const verifier = verifierFor(() => ({ issuer: server.issuer, audience: API, http }));

const token = (key: TestKey, overrides: Record<string, unknown> = {}) => signJwt(key, claims(server.issuer, API, overrides));

describe("createVerifier(): the issuer's key set", () => {
  it("fetches nothing until a token arrives, then once for many verifications", async () => {
    const v = verifier();
    expect(server.jwksRequests()).toBe(0);
    const jwt = await token(first);
    for (let i = 0; i < 100; i++) expect((await v.verifyToken(jwt)).subject).toBe("alice");
    expect(server.jwksRequests()).toBe(1);
    expect(server.discoveryRequests()).toBe(1);
  });

  it("shares one request among concurrent first verifications", async () => {
    server.delayMs = 50;
    const v = verifier();
    const jwt = await token(first);
    await Promise.all(Array.from({ length: 100 }, () => v.verifyToken(jwt)));
    expect(server.jwksRequests()).toBe(1);
  });

  it("picks up a rotated key on an unknown kid, but only once the cooldown has passed", async () => {
    const advance = simulateTime();
    const v = verifier({ jwks: { cooldownMs: 30_000 } });
    await v.verifyToken(await token(first));
    server.keys = [first, second];
    advance(29_999);
    const rotated = await token(second);
    const error = await rejection(v.verifyToken(rotated));
    expect(error.code).toBe("invalid_token");
    expect(error.errorDescription).toMatch(/does not publish/);
    expect(server.jwksRequests()).toBe(1);
    advance(1);
    expect((await v.verifyToken(rotated)).subject).toBe("alice");
    expect(server.jwksRequests()).toBe(2);
  });

  it("fetches the set again after maxAgeMs", async () => {
    const advance = simulateTime();
    const v = verifier({ jwks: { maxAgeMs: 60_000 } });
    const jwt = await token(first);
    await v.verifyToken(jwt);
    advance(59_999);
    await v.verifyToken(jwt);
    expect(server.jwksRequests()).toBe(1);
    advance(1);
    await v.verifyToken(jwt);
    expect(server.jwksRequests()).toBe(2);
  });

  it("fails the first fetch with server_error on a non-200 answer, and tries again on the next token", async () => {
    server.failWith = 500;
    const v = verifier();
    const jwt = await token(first);
    const error = await rejection(v.verifyToken(jwt));
    expect(error.code).toBe("server_error");
    expect(error.status).toBe(500);
    server.failWith = 0;
    expect((await v.verifyToken(jwt)).subject).toBe("alice");
  });

  it("fails with invalid_response when the answer is not a JWK Set", async () => {
    const jwt = await token(first);
    for (const body of ["not json", "[]", '{"keys": {}}', '{"keys": [1]}', "null"]) {
      server.rawBody = body;
      const error = await rejection(verifier().verifyToken(jwt));
      expect(error.code, body).toBe("invalid_response");
    }
  });

  it("fails with invalid_response for a set larger than maxResponseBytes, declared or streamed", async () => {
    server.extraJwks = Array.from({ length: 200 }, (_, i) => ({ kty: "EC", kid: `pad-${i}`, x: "A".repeat(100) }));
    const jwt = await token(first);
    for (const chunked of [false, true]) {
      server.chunked = chunked;
      const error = await rejection(verifier({ http: { ...http, maxResponseBytes: 4_096 } }).verifyToken(jwt));
      expect(error.code, `chunked: ${chunked}`).toBe("invalid_response");
      expect(error.message).toMatch(/larger than 4096 bytes/);
    }
    expect((await verifier().verifyToken(jwt)).subject).toBe("alice");
  });

  it("fails with timeout within timeoutMs when the issuer's key set does not answer", async () => {
    const v = verifier({ http: { ...http, timeoutMs: 300 } });
    const jwt = await token(first);
    server.stall = true;
    const started = performance.now();
    const error = await rejection(v.verifyToken(jwt));
    const elapsed = performance.now() - started;
    expect(error.code).toBe("timeout");
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
  });

  it("fails with network_error when the key set cannot be reached", async () => {
    const jwt = await token(first);
    const down = () => Promise.reject(new TypeError("fetch failed"));
    // Discovery works; the key set request fails without an answer.
    const fetch = (input: string | URL | Request, init?: RequestInit) =>
      String(input).endsWith("/jwks") ? down() : globalThis.fetch(input, init);
    const error = await rejection(verifier({ http: { ...http, fetch } }).verifyToken(jwt));
    expect(error.code).toBe("network_error");
  });

  it("refuses an http:// jwks_uri unless allowInsecureRequests is set", async () => {
    // An https issuer (its discovery answered by a custom fetch) whose metadata names an http:// key set.
    const metadata = { issuer: "https://issuer.test", jwks_uri: server.jwksUri, response_types_supported: ["code"] };
    const v = createVerifier({ issuer: "https://issuer.test", audience: API, http: { fetch: () => Promise.resolve(Response.json(metadata)) } });
    const error = await rejection(v.verifyToken(await signJwt(first, claims("https://issuer.test", API))));
    expect(error.code).toBe("invalid_options");
    expect(error.message).toMatch(/jwks_uri needs an https/);
    expect(server.jwksRequests()).toBe(0);
  });

  it("shares no request on Cloudflare Workers", async () => {
    vi.stubGlobal("navigator", { userAgent: "Cloudflare-Workers" });
    server.delayMs = 50;
    const v = verifier();
    const jwt = await token(first);
    await Promise.all(Array.from({ length: 5 }, () => v.verifyToken(jwt)));
    expect(server.jwksRequests()).toBe(5);
  });

  it("makes a verifier report an issuer that does not answer as timeout (503), never as invalid_token", async () => {
    const jwt = await token(first);
    const options = { http: { ...http, timeoutMs: 300 } };
    expect((await verifier(options).verifyToken(jwt)).subject).toBe("alice");
    server.stall = true;
    const fresh = verifier(options);
    const error = await rejection(fresh.verifyToken(jwt));
    expect(error.code).toBe("timeout");
    const response = await identityHandler(fresh)(new Request(`${API}me`, { headers: { authorization: `Bearer ${jwt}` } }));
    expect(response.status).toBe(503);
    expect(response.headers.get("www-authenticate")).toBeNull();
  });

  it("refuses negative durations with invalid_options", () => {
    expect(() => verifier({ jwks: { cooldownMs: -1 } })).toThrow(CliAuthError);
    expect(() => verifier({ jwks: { maxAgeMs: Number.NaN } })).toThrow(CliAuthError);
  });
});

describe("createVerifier() on jose: behaviour that must hold", () => {
  it("fetches the key set once for 1,000 verifications (spread over 9 simulated minutes)", async () => {
    const advance = simulateTime();
    const v = verifier();
    const jwt = await token(first);
    for (let i = 0; i < 1_000; i++) {
      expect((await v.verifyToken(jwt)).subject).toBe("alice");
      advance(540);
    }
    expect(server.jwksRequests()).toBe(1);
  });

  it("fetches the key set at most once per cooldown for 1,500 random unknown kids over 300 simulated seconds", async () => {
    const advance = simulateTime();
    const v = verifier();
    await v.verifyToken(await token(first));
    const attacker = await generateTestKey("ES256", "attacker");
    for (let i = 0; i < 1_500; i++) {
      const forged = await signJwt({ ...attacker, kid: crypto.randomUUID() }, claims(server.issuer, API));
      expect((await rejection(v.verifyToken(forged))).errorDescription).toMatch(/does not publish/);
      advance(200);
    }
    // One fetch at the start, then at most one per 30 s cooldown: 300 s -> at most 11.
    expect(server.jwksRequests()).toBeLessThanOrEqual(11);
    expect(server.jwksRequests()).toBeGreaterThanOrEqual(10);
  });

  it("stops trusting a key removed from the set once maxAgeMs has passed, even while the set URL fails", async () => {
    const advance = simulateTime();
    const v = verifier({ jwks: { maxAgeMs: 60_000, cooldownMs: 30_000 } });
    const removed = await token(first);
    expect((await v.verifyToken(removed)).subject).toBe("alice");
    // The issuer drops k1 (compromised, say) and its key set URL goes down at the same time.
    server.keys = [second];
    server.failWith = 503;
    advance(59_999);
    expect((await v.verifyToken(removed)).subject).toBe("alice");
    advance(1);
    const stale = await rejection(v.verifyToken(removed));
    expect(stale.code).toBe("server_error");
    const me = identityHandler(v);
    const response = await me(new Request(`${API}me`, { headers: { authorization: `Bearer ${removed}` } }));
    expect(response.status).toBe(503);
    // However long the URL stays down, the set in hand is not trusted again.
    for (const step of [1_000, 30_000, 10 * 60_000]) {
      advance(step);
      expect((await rejection(v.verifyToken(removed))).code).toBe("server_error");
    }
    // The URL answers again: k1 is gone for good, k2 verifies.
    server.failWith = 0;
    expect((await rejection(v.verifyToken(removed))).errorDescription).toMatch(/does not publish/);
    expect((await v.verifyToken(await token(second))).subject).toBe("alice");
  });
});
