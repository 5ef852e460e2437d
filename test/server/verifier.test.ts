// createVerifier() against the real provider (oidc-provider in a Node child process): JWT access tokens for a
// resource (RFC 9068), opaque tokens by introspection (RFC 7662), and forged tokens built with Web Crypto.
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { createProtocolContext, resolveAuthorizationServer, revokeToken, type TokenSet } from "../../src/mod.ts";
import { type CliAuthError, createVerifier } from "../../server/mod.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { claims, encodeJson, generateTestKey, signJwt } from "./support/key_server.ts";
import { http, introspection, issueTokens } from "./support/tokens.ts";
import { rejection } from "../support/reject.ts";
import { verifierFor } from "./support/verifier.ts";

const API = "https://api.example.test/";
const OTHER_API = "https://other.example.test/";
const OPAQUE_API = "urn:example:opaque";
const resources = {
  [API]: { format: "jwt" as const },
  [OTHER_API]: { format: "jwt" as const },
  [OPAQUE_API]: { format: "opaque" as const },
};

let provider: TestProvider;
let jwt: TokenSet;
let opaque: TokenSet;

beforeAll(async () => {
  provider = await startProvider({ resources });
  [jwt, opaque] = await Promise.all([
    issueTokens(provider.issuer, { resource: API, scopes: ["openid", "api:read", "api:write", "offline_access"] }),
    issueTokens(provider.issuer, { resource: OPAQUE_API, login: "bob" }),
  ]);
});
afterAll(async () => {
  await provider?.close();
});

const verifier = verifierFor(() => ({ issuer: provider.issuer, audience: API, http }));

function bearer(token: string): Request {
  return new Request("https://api.example.test/me", { headers: { authorization: `Bearer ${token}` } });
}

async function invalid(promise: Promise<unknown>, description: RegExp): Promise<CliAuthError> {
  const error = await rejection(promise);
  expect(error.code).toBe("invalid_token");
  expect(error.status).toBe(401);
  expect(error.errorDescription).toMatch(description);
  return error;
}

const jwksRequests = async () => (await provider.requests()).filter((r) => r.path === "/jwks").length;
const introspections = async () => (await provider.requests()).filter((r) => r.path === "/token/introspection").length;

describe("createVerifier() with JWT access tokens from the provider", () => {
  it("verifyRequest() returns the subject, scopes, claims and expiry of a valid token", async () => {
    expect(jwt.accessToken.split(".")).toHaveLength(3);
    const token = await verifier().verifyRequest(bearer(jwt.accessToken));
    expect(token.subject).toBe("alice");
    expect(token.type).toBe("jwt");
    expect(token.scopes.sort()).toEqual(["api:read", "api:write"]);
    expect(token.claims.aud).toBe(API);
    expect(token.claims.iss).toBe(provider.issuer);
    expect(token.clientId).toBe("cli");
    expect(token.expiresAt).toBe((token.claims.exp as number) * 1000);
    expect(token.expiresAt).toBeGreaterThan(Date.now());
  });

  it("verifyToken() verifies a token given without a request", async () => {
    const token = await verifier().verifyToken(jwt.accessToken);
    expect(token.subject).toBe("alice");
  });

  it("fetches the JWKS once for 1,000 verifications", async () => {
    await provider.reset();
    const v = verifier();
    for (let i = 0; i < 1_000; i++) {
      const token = await v.verifyRequest(bearer(jwt.accessToken));
      expect(token.subject).toBe("alice");
    }
    expect(await jwksRequests()).toBe(1);
    const discovery = (await provider.requests()).filter((r) => r.path.startsWith("/.well-known/"));
    expect(discovery).toHaveLength(1);
  });

  it("shares one JWKS request among 100 concurrent first verifications", async () => {
    await provider.reset();
    const v = verifier();
    const results = await Promise.all(Array.from({ length: 100 }, () => v.verifyRequest(bearer(jwt.accessToken))));
    expect(results.every((r) => r.subject === "alice")).toBe(true);
    expect(await jwksRequests()).toBe(1);
  });

  it("rejects a token for another audience with invalid_token", async () => {
    const other = await issueTokens(provider.issuer, { resource: OTHER_API });
    expect(JSON.parse(atob(other.accessToken.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).aud).toBe(OTHER_API);
    await invalid(verifier().verifyRequest(bearer(other.accessToken)), /another audience/);
    // …and the same token is fine for the API it was issued to.
    expect((await verifier({ audience: OTHER_API }).verifyToken(other.accessToken)).subject).toBe("alice");
  });

  it("rejects an access token issued without a resource (meant for userinfo) with invalid_token", async () => {
    const plain = await issueTokens(provider.issuer, {});
    await invalid(verifier().verifyRequest(bearer(plain.accessToken)), /not accept opaque/);
  });

  it("rejects a token whose payload was changed with invalid_token (signature)", async () => {
    const [header, payload, signature] = jwt.accessToken.split(".") as [string, string, string];
    const claimsOf = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    const tampered = `${header}.${encodeJson({ ...claimsOf, sub: "mallory" })}.${signature}`;
    await invalid(verifier().verifyRequest(bearer(tampered)), /signature is invalid/);
    const scoped = `${header}.${encodeJson({ ...claimsOf, scope: "api:read api:write admin" })}.${signature}`;
    await invalid(verifier().verifyRequest(bearer(scoped)), /signature is invalid/);
  });

  it("rejects a token whose signature was changed with invalid_token", async () => {
    const [header, payload, signature] = jwt.accessToken.split(".") as [string, string, string];
    const middle = Math.floor(signature.length / 2);
    const flipped = signature.slice(0, middle) + (signature[middle] === "A" ? "B" : "A") + signature.slice(middle + 1);
    await invalid(verifier().verifyRequest(bearer(`${header}.${payload}.${flipped}`)), /signature is invalid/);
    await invalid(verifier().verifyRequest(bearer(`${header}.${payload}.`)), /signature is invalid/);
  });

  it('rejects an unsigned token (alg "none") with invalid_token', async () => {
    const [header, payload] = jwt.accessToken.split(".") as [string, string, string];
    const original = JSON.parse(atob(header.replace(/-/g, "+").replace(/_/g, "/")));
    for (const alg of ["none", "None", "NONE"]) {
      const unsigned = `${encodeJson({ ...original, alg })}.${payload}.`;
      await invalid(verifier().verifyRequest(bearer(unsigned)), /algorithm is not accepted/);
    }
  });

  it("rejects an HS256 token keyed with the issuer's public key (algorithm confusion) with invalid_token", async () => {
    const jwks = await (await fetch(`${provider.issuer}/jwks`)).json() as { keys: JsonWebKey[] };
    const [, payload] = jwt.accessToken.split(".") as [string, string, string];
    const input = `${encodeJson({ alg: "HS256", typ: "at+jwt", kid: "ec-1" })}.${payload}`;
    const secret = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(JSON.stringify(jwks.keys.find((k) => k.kty === "EC"))),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", secret, new TextEncoder().encode(input)));
    const forged = `${input}.${btoa(String.fromCharCode(...mac)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
    await invalid(verifier().verifyRequest(bearer(forged)), /algorithm is not accepted/);
  });

  it("rejects a token signed with a key the issuer does not publish (unknown kid) with invalid_token", async () => {
    const attacker = await generateTestKey("ES256", "attacker-1");
    const forged = await signJwt(attacker, claims(provider.issuer, API));
    await invalid(verifier().verifyRequest(bearer(forged)), /key the issuer does not publish/);
    // The provider's own kid on a token signed with another key: the key is found, the signature fails.
    const impostor = await signJwt({ ...attacker, kid: "ec-1" }, claims(provider.issuer, API));
    await invalid(verifier().verifyRequest(bearer(impostor)), /signature is invalid/);
  });

  it("reloads the JWKS at most once per cooldown for unknown kids, sharing the reload", async () => {
    await provider.reset();
    let now = Date.now();
    // jose's remote key set times its cooldown with Date.now(): the system clock moves with the verifier's.
    vi.useFakeTimers({ toFake: ["Date"], now });
    onTestFinished(() => void vi.useRealTimers());
    const v = verifier({ now: () => now, jwks: { cooldownMs: 30_000 } });
    await v.verifyToken(jwt.accessToken);
    expect(await jwksRequests()).toBe(1);
    const attacker = await generateTestKey("ES256", "attacker-2");
    const forged = await signJwt(attacker, claims(provider.issuer, API, { exp: Math.floor(now / 1000) + 7200 }));
    // Within the cooldown of the first fetch: 50 unknown-kid tokens cause no request.
    for (let i = 0; i < 50; i++) await invalid(v.verifyToken(forged), /does not publish/);
    expect(await jwksRequests()).toBe(1);
    // Off cooldown: 50 concurrent unknown-kid tokens cause exactly one reload, then the cooldown holds again.
    now += 31_000;
    vi.setSystemTime(now);
    await Promise.all(Array.from({ length: 50 }, () => invalid(v.verifyToken(forged), /does not publish/)));
    expect(await jwksRequests()).toBe(2);
    for (let i = 0; i < 50; i++) await invalid(v.verifyToken(forged), /does not publish/);
    expect(await jwksRequests()).toBe(2);
    expect((await v.verifyToken(jwt.accessToken)).subject).toBe("alice");
  });

  it("rejects an expired token with invalid_token, judged with the clock tolerance", async () => {
    const exp = (JSON.parse(atob(jwt.accessToken.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).exp as number) * 1000;
    const at = (ms: number) => verifier({ now: () => ms, clockToleranceSeconds: 30 });
    expect((await at(exp + 29_000).verifyToken(jwt.accessToken)).subject).toBe("alice");
    await invalid(at(exp + 30_000).verifyToken(jwt.accessToken), /has expired/);
    await invalid(verifier({ now: () => exp, clockToleranceSeconds: 0 }).verifyToken(jwt.accessToken), /has expired/);
  });

  it("rejects a token that is not valid yet (nbf) with invalid_token", async () => {
    const key = await generateTestKey("ES256", "nbf-key");
    const token = await signJwt(key, claims(provider.issuer, API, { nbf: Math.floor(Date.now() / 1000) + 600 }));
    // The claims are judged before any key is looked up: the unknown key never matters here.
    await invalid(verifier().verifyToken(token), /not valid yet/);
  });

  it("requires the at+jwt type by default", async () => {
    const [header, payload, signature] = jwt.accessToken.split(".") as [string, string, string];
    const original = JSON.parse(atob(header.replace(/-/g, "+").replace(/_/g, "/")));
    const { typ: _typ, ...untyped } = original;
    await invalid(verifier().verifyToken(`${encodeJson({ ...original, typ: "JWT" })}.${payload}.${signature}`), /typ/);
    await invalid(verifier().verifyToken(`${encodeJson(untyped)}.${payload}.${signature}`), /typ/);
  });

  it("accepts only the token kinds it is told to", async () => {
    await invalid(verifier({ accepts: ["opaque"], introspection }).verifyToken(jwt.accessToken), /not accept JWT/);
    await invalid(verifier({ introspection }).verifyToken(jwt.accessToken, { accepts: ["opaque"] }), /not accept JWT/);
    const error = await rejection(verifier().verifyToken(jwt.accessToken, { accepts: ["pat"] }));
    expect(error.code).toBe("invalid_options");
  });

  it("requires the scopes a route asks for with insufficient_scope", async () => {
    const v = verifier();
    expect((await v.verifyRequest(bearer(jwt.accessToken), { scopes: ["api:read"] })).subject).toBe("alice");
    const error = await rejection(v.verifyRequest(bearer(jwt.accessToken), { scopes: ["api:read", "admin"] }));
    expect(error.code).toBe("insufficient_scope");
    expect(error.status).toBe(403);
    expect(error.scopes).toEqual(["api:read", "admin"]);
  });

  it("never puts the token in the error", async () => {
    const [header, payload] = jwt.accessToken.split(".") as [string, string, string];
    const error = await rejection(verifier().verifyRequest(bearer(`${header}.${payload}.AAAA`)));
    const text = JSON.stringify({ ...error.toJSON(), stack: error.stack, cause: String(error.cause) });
    expect(text).not.toContain(payload);
  });
});

describe("createVerifier() across issuers", () => {
  let second: TestProvider;
  let expiring: TokenSet;
  let expiringOpaque: TokenSet;

  beforeAll(async () => {
    second = await startProvider({ resources, accessTokenTtl: 1 });
    [expiring, expiringOpaque] = await Promise.all([
      issueTokens(second.issuer, { resource: API }),
      issueTokens(second.issuer, { resource: OPAQUE_API }),
    ]);
  });
  afterAll(async () => {
    await second?.close();
  });

  it("rejects a real token from another issuer with invalid_token", async () => {
    expect(second.issuer).not.toBe(provider.issuer);
    await invalid(verifier().verifyRequest(bearer(expiring.accessToken)), /another issuer/);
  });

  it("rejects a token that really expired at the provider, JWT and opaque, with invalid_token", async () => {
    const exp = JSON.parse(atob(expiring.accessToken.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).exp as number;
    // The opaque token was issued in parallel, possibly in the next second: wait for the later of the two expiries.
    const wait = Math.max(exp * 1000, expiringOpaque.expiresAt ?? 0) + 50 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const v = createVerifier({ issuer: second.issuer, audience: API, http, clockToleranceSeconds: 0 });
    await invalid(v.verifyRequest(bearer(expiring.accessToken)), /has expired/);
    const o = createVerifier({ issuer: second.issuer, audience: OPAQUE_API, http, introspection, clockToleranceSeconds: 0 });
    await invalid(o.verifyRequest(bearer(expiringOpaque.accessToken)), /not active|expired/);
  });
});

describe("createVerifier() with opaque tokens (introspection)", () => {
  const opaqueVerifier = verifierFor(() => ({ issuer: provider.issuer, audience: OPAQUE_API, http, introspection }));

  it("verifies an opaque token by introspection with the API's credentials", async () => {
    expect(opaque.accessToken.split(".")).toHaveLength(1);
    const token = await opaqueVerifier().verifyRequest(bearer(opaque.accessToken));
    expect(token.type).toBe("opaque");
    expect(token.subject).toBe("bob");
    expect(token.scopes).toEqual(["api:read"]);
    expect(token.clientId).toBe("cli");
    expect(token.claims.aud).toBe(OPAQUE_API);
    expect(token.claims).not.toHaveProperty("active");
    expect(token.expiresAt).toBeGreaterThan(Date.now());
  });

  it("caches the answer by token hash: 100 verifications, 1 introspection", async () => {
    await provider.reset();
    const v = opaqueVerifier();
    await Promise.all(Array.from({ length: 50 }, () => v.verifyToken(opaque.accessToken)));
    for (let i = 0; i < 50; i++) expect((await v.verifyToken(opaque.accessToken)).subject).toBe("bob");
    expect(await introspections()).toBe(1);
  });

  it("asks again once the cache entry is older than cacheTtlMs", async () => {
    await provider.reset();
    let now = Date.now();
    const v = opaqueVerifier({ now: () => now, introspection: { ...introspection, cacheTtlMs: 10_000 } });
    await v.verifyToken(opaque.accessToken);
    now += 9_000;
    await v.verifyToken(opaque.accessToken);
    expect(await introspections()).toBe(1);
    now += 2_000;
    await v.verifyToken(opaque.accessToken);
    expect(await introspections()).toBe(2);
  });

  it("rejects a revoked opaque token with invalid_token (cache disabled)", async () => {
    const token = await issueTokens(provider.issuer, { resource: OPAQUE_API });
    const v = opaqueVerifier({ introspection: { ...introspection, cacheTtlMs: 0 } });
    expect((await v.verifyToken(token.accessToken)).subject).toBe("alice");
    const as = await resolveAuthorizationServer({ issuer: provider.issuer, http });
    await revokeToken(createProtocolContext(as, { clientId: "cli", http }), token.accessToken, { tokenTypeHint: "access_token" });
    await invalid(v.verifyToken(token.accessToken), /not active/);
  });

  it("rejects an opaque token meant for another audience, or for none, with invalid_token", async () => {
    await invalid(opaqueVerifier({ audience: API, accepts: ["opaque"] }).verifyToken(opaque.accessToken), /another audience/);
    const plain = await issueTokens(provider.issuer, {});
    await invalid(opaqueVerifier().verifyToken(plain.accessToken), /another audience/);
  });

  it("rejects a refresh token presented as an access token with invalid_token", async () => {
    // oidc-provider introspects refresh tokens as active, with no token_type and no aud: the audience check refuses it.
    expect(opaque.refreshToken).toBeTruthy();
    await invalid(opaqueVerifier().verifyToken(opaque.refreshToken!), /not an access token|not active|another audience/);
  });

  it("rejects an unknown opaque token with invalid_token", async () => {
    await invalid(opaqueVerifier().verifyRequest(bearer("made-up-token-value")), /not active/);
  });

  it("reports wrong API credentials as invalid_client, not as a bad token", async () => {
    const v = opaqueVerifier({ introspection: { clientId: "api-server", clientSecret: "wrong" } });
    const error = await rejection(v.verifyToken(opaque.accessToken));
    expect(error.code).toBe("invalid_client");
  });
});
