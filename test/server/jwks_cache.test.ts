// The remote key set on its own, against a stand-in issuer on loopback whose keys the test controls: fetch once,
// reload on unknown kid off cooldown only, max age, keep old keys when a refresh fails, timeout, bad answers, the
// sequence guard, and no sharing on Cloudflare Workers. Time is a clock option, not a sleep.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createRemoteJwks, type RemoteJwks, type RemoteJwksOptions } from "../../server/jwks_cache.ts";
import { CliAuthError, createVerifier, identityHandler } from "../../server/mod.ts";
import { claims, generateTestKey, type KeyServer, signJwt, startKeyServer, type TestKey } from "./support/key_server.ts";
import { rejection } from "../support/reject.ts";

const http = { allowInsecureRequests: true, timeoutMs: 2_000 };
let server: KeyServer;
let first: TestKey;
let second: TestKey;
let now: number;

beforeEach(async () => {
  [first, second] = await Promise.all([generateTestKey("ES256", "k1"), generateTestKey("ES256", "k2")]);
  server = await startKeyServer([first]);
  now = 1_000_000;
});
afterEach(async () => {
  vi.unstubAllGlobals();
  await server?.close();
});

function jwks(options: RemoteJwksOptions = {}): RemoteJwks {
  return createRemoteJwks(new URL(server.jwksUri), { http, now: () => now, ...options });
}

describe("createRemoteJwks()", () => {
  it("fetches nothing until a key is asked for, then once for many lookups", async () => {
    const set = jwks();
    expect(server.jwksRequests()).toBe(0);
    expect(set.fetchedAt).toBeUndefined();
    for (let i = 0; i < 100; i++) expect((await set.key({ alg: "ES256", kid: "k1" })).type).toBe("public");
    expect(server.jwksRequests()).toBe(1);
    expect(set.fetchedAt).toBe(now);
  });

  it("returns the same imported CryptoKey each time", async () => {
    const set = jwks();
    expect(await set.key({ alg: "ES256", kid: "k1" })).toBe(await set.key({ alg: "ES256", kid: "k1" }));
  });

  it("shares one request among concurrent first lookups", async () => {
    server.delayMs = 50;
    const set = jwks();
    await Promise.all(Array.from({ length: 100 }, () => set.key({ alg: "ES256", kid: "k1" })));
    expect(server.jwksRequests()).toBe(1);
  });

  it("picks up a rotated key on an unknown kid, but only once the cooldown has passed", async () => {
    const set = jwks({ cooldownMs: 30_000 });
    await set.key({ alg: "ES256", kid: "k1" });
    server.keys = [first, second];
    now += 29_999;
    const error = await rejection(set.key({ alg: "ES256", kid: "k2" }));
    expect(error.code).toBe("invalid_token");
    expect(server.jwksRequests()).toBe(1);
    now += 1;
    expect((await set.key({ alg: "ES256", kid: "k2" })).type).toBe("public");
    expect(server.jwksRequests()).toBe(2);
  });

  it("counts the cooldown from the last attempt, so unknown kids cause one reload per cooldown", async () => {
    const set = jwks({ cooldownMs: 10_000 });
    await set.key({ alg: "ES256", kid: "k1" });
    for (let step = 0; step < 5; step++) {
      now += 10_000;
      for (let i = 0; i < 20; i++) await rejection(set.key({ alg: "ES256", kid: `made-up-${i}` }));
    }
    expect(server.jwksRequests()).toBe(6);
  });

  it("fetches the set again after maxAgeMs", async () => {
    const set = jwks({ maxAgeMs: 60_000 });
    await set.key({ alg: "ES256", kid: "k1" });
    now += 59_999;
    await set.key({ alg: "ES256", kid: "k1" });
    expect(server.jwksRequests()).toBe(1);
    now += 1;
    await set.key({ alg: "ES256", kid: "k1" });
    expect(server.jwksRequests()).toBe(2);
    expect(set.fetchedAt).toBe(now);
  });

  it("keeps verifying with the set in hand when a max-age refresh fails, and retries after the cooldown", async () => {
    const set = jwks({ maxAgeMs: 60_000, cooldownMs: 30_000 });
    await set.key({ alg: "ES256", kid: "k1" });
    server.failWith = 503;
    now += 60_000;
    expect((await set.key({ alg: "ES256", kid: "k1" })).type).toBe("public");
    expect(server.jwksRequests()).toBe(2);
    now += 10_000;
    await set.key({ alg: "ES256", kid: "k1" });
    expect(server.jwksRequests()).toBe(2);
    server.failWith = 0;
    now += 20_000;
    await set.key({ alg: "ES256", kid: "k1" });
    expect(server.jwksRequests()).toBe(3);
    expect(set.fetchedAt).toBe(now);
  });

  it("stops trusting a key removed from the set once maxAgeMs + cooldownMs pass while the set URL fails (fail closed)", async () => {
    const set = jwks({ maxAgeMs: 60_000, cooldownMs: 30_000 });
    await set.key({ alg: "ES256", kid: "k1" });
    // The issuer drops k1 (compromised, say) and its key set URL goes down at the same time.
    server.keys = [second];
    server.failWith = 503;
    now += 60_000; // past maxAgeMs: a reload fails; the set in hand is used for at most one cooldown more
    expect((await set.key({ alg: "ES256", kid: "k1" })).type).toBe("public");
    now += 30_000; // maxAgeMs + cooldownMs: the retry fails too, and the set in hand is no longer trusted
    const stale = await rejection(set.key({ alg: "ES256", kid: "k1" }));
    expect(stale.code).toBe("server_error");
    expect(server.jwksRequests()).toBe(3);
    // Within the cooldown of that attempt nothing is fetched, and nothing is trusted either.
    now += 10_000;
    expect((await rejection(set.key({ alg: "ES256", kid: "k1" }))).code).toBe("server_error");
    expect(server.jwksRequests()).toBe(3);
    now += 10 * 60_000;
    expect((await rejection(set.key({ alg: "ES256", kid: "k1" }))).code).toBe("server_error");
    // The URL answers again: k1 is gone for good, k2 verifies.
    server.failWith = 0;
    now += 30_000;
    expect((await rejection(set.key({ alg: "ES256", kid: "k1" }))).code).toBe("invalid_token");
    expect((await set.key({ alg: "ES256", kid: "k2" })).type).toBe("public");
  });

  it("makes a verifier answer 503, never accept, with a key set past maxAgeMs + cooldownMs that cannot be fetched", async () => {
    const token = await signJwt(first, claims(server.issuer, "https://api.example.test/"));
    const verifier = createVerifier({
      issuer: server.issuer,
      audience: "https://api.example.test/",
      http,
      now: () => now,
      jwks: { maxAgeMs: 60_000, cooldownMs: 30_000 },
    });
    expect((await verifier.verifyToken(token)).subject).toBe("alice");
    server.failWith = 503;
    now += 90_000;
    const error = await rejection(verifier.verifyToken(token));
    expect(error.code).toBe("server_error");
    const response = await identityHandler(verifier)(
      new Request("https://api.example.test/me", { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(response.status).toBe(503);
  });

  it("fails the first fetch with server_error on a non-200 answer, and tries again on the next lookup", async () => {
    server.failWith = 500;
    const set = jwks();
    const error = await rejection(set.key({ alg: "ES256", kid: "k1" }));
    expect(error.code).toBe("server_error");
    expect(error.status).toBe(500);
    server.failWith = 0;
    expect((await set.key({ alg: "ES256", kid: "k1" })).type).toBe("public");
  });

  it("fails with invalid_response when the answer is not a JWK Set", async () => {
    for (const body of ["not json", "[]", '{"keys": {}}', '{"keys": [1]}', "null"]) {
      server.rawBody = body;
      const error = await rejection(jwks().key({ alg: "ES256", kid: "k1" }));
      expect(error.code, body).toBe("invalid_response");
    }
  });

  it("fails with invalid_response for a set larger than maxResponseBytes, declared or streamed", async () => {
    server.extraJwks = Array.from({ length: 200 }, (_, i) => ({ kty: "EC", kid: `pad-${i}`, x: "A".repeat(100) }));
    for (const chunked of [false, true]) {
      server.chunked = chunked;
      const error = await rejection(jwks({ http: { ...http, maxResponseBytes: 4_096 } }).key({ alg: "ES256", kid: "k1" }));
      expect(error.code, `chunked: ${chunked}`).toBe("invalid_response");
      expect(error.message).toMatch(/larger than 4096 bytes/);
    }
    expect((await jwks().key({ alg: "ES256", kid: "k1" })).type).toBe("public");
  });

  it("fails with timeout within timeoutMs when the issuer does not answer", async () => {
    server.stall = true;
    const started = performance.now();
    const error = await rejection(jwks({ http: { ...http, timeoutMs: 300 } }).key({ alg: "ES256", kid: "k1" }));
    const elapsed = performance.now() - started;
    expect(error.code).toBe("timeout");
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
  });

  it("fails with network_error when the issuer cannot be reached", async () => {
    const url = new URL(server.jwksUri);
    await server.close();
    const error = await rejection(createRemoteJwks(url, { http }).key({ alg: "ES256", kid: "k1" }));
    expect(error.code).toBe("network_error");
  });

  it("refuses an http:// jwks_uri unless allowInsecureRequests is set", async () => {
    const error = await rejection(createRemoteJwks(new URL(server.jwksUri)).key({ alg: "ES256", kid: "k1" }));
    expect(error.code).toBe("invalid_options");
    expect(server.jwksRequests()).toBe(0);
  });

  it("keeps the newest answer when an older request finishes last (sequence guard)", async () => {
    const set = jwks({ singleFlight: false, cooldownMs: 30_000 });
    server.delays = [300, 0];
    const older = set.reload();
    await vi.waitFor(() => expect(server.jwksRequests()).toBe(1));
    server.keys = [second];
    const newer = set.reload();
    await newer;
    await older;
    expect(server.jwksRequests()).toBe(2);
    // The slow first answer (k1 only) arrived last and was dropped: k2 is there without any further request.
    expect((await set.key({ alg: "ES256", kid: "k2" })).type).toBe("public");
    expect(server.jwksRequests()).toBe(2);
  });

  it("shares no request on Cloudflare Workers", async () => {
    vi.stubGlobal("navigator", { userAgent: "Cloudflare-Workers" });
    server.delayMs = 50;
    const set = jwks();
    await Promise.all(Array.from({ length: 5 }, () => set.key({ alg: "ES256", kid: "k1" })));
    expect(server.jwksRequests()).toBe(5);
  });

  it("makes a verifier report an issuer that does not answer as timeout (503), never as invalid_token", async () => {
    const token = await signJwt(first, claims(server.issuer, "https://api.example.test/"));
    const verifier = createVerifier({ issuer: server.issuer, audience: "https://api.example.test/", http: { ...http, timeoutMs: 300 } });
    expect((await verifier.verifyToken(token)).subject).toBe("alice");
    server.stall = true;
    const fresh = createVerifier({ issuer: server.issuer, audience: "https://api.example.test/", http: { ...http, timeoutMs: 300 } });
    const error = await rejection(fresh.verifyToken(token));
    expect(error.code).toBe("timeout");
    const response = await identityHandler(fresh)(
      new Request("https://api.example.test/me", { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(response.status).toBe(503);
    expect(response.headers.get("www-authenticate")).toBeNull();
  });

  it("refuses negative durations with invalid_options", () => {
    expect(() => jwks({ cooldownMs: -1 })).toThrow(CliAuthError);
    expect(() => jwks({ maxAgeMs: Number.NaN })).toThrow(CliAuthError);
  });
});
