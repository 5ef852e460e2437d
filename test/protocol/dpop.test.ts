// DPoP-bound sessions (RFC 9449) against the real provider with features.dPoP on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth, CliAuthError } from "../../mod.ts";
import { createProtocolContext, fetchUserInfo, resolveAuthorizationServer } from "../../src/mod.ts";
import { countingStore, loginWithoutBrowser, testOptions } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { type ResourceServer, startResourceServer } from "../support/resource_server.ts";

let provider: TestProvider;
let withNonce: TestProvider;
let api: ResourceServer;
let nonceApi: ResourceServer;
let apiProvider: TestProvider;

beforeAll(async () => {
  [api, nonceApi] = await Promise.all([startResourceServer(), startResourceServer({ dpopNonce: true })]);
  const resources = {
    [api.resource]: { format: "jwt" as const, scope: "api:read" },
    [nonceApi.resource]: { format: "jwt" as const, scope: "api:read" },
  };
  [provider, withNonce, apiProvider] = await Promise.all([
    startProvider({ dpop: true }),
    startProvider({ dpop: true, dpopNonce: true }),
    startProvider({ dpop: true, resources }),
  ]);
  api.trust(apiProvider.issuer);
  nonceApi.trust(apiProvider.issuer);
});
afterAll(async () => {
  await Promise.all([provider?.close(), withNonce?.close(), apiProvider?.close(), api?.close(), nonceApi?.close()]);
});

/** A DPoP-bound login whose tokens are for `resource` (JWTs the API's verifier checks). */
async function apiLogin(resource: string) {
  const store = countingStore();
  const auth = new CliAuth(testOptions(apiProvider.issuer, { storage: store, dpop: true, resource, scopes: ["openid", "offline_access", "api:read"] }));
  const { tokens } = await loginWithoutBrowser(auth);
  return { auth, tokens, store };
}

describe("dpop: true", () => {
  it("logs in with DPoP-bound tokens and keeps the key only in the stored session", async () => {
    const store = countingStore();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store, dpop: true }));
    const { tokens } = await loginWithoutBrowser(auth);
    expect(tokens.tokenType).toBe("DPoP");
    const session = JSON.parse(store.values.get("default")!);
    expect(session.dpopKey.privateJwk.kty).toBe("EC");
    expect(session.dpopKey.privateJwk.d).toBeTruthy();
    expect(session.dpopKey.publicJwk.d).toBeUndefined();
  });

  it("whoami works with proofs; the same token without a proof is refused by userinfo", async () => {
    const auth = new CliAuth(testOptions(provider.issuer, { dpop: true }));
    const { tokens } = await loginWithoutBrowser(auth, "dora");
    expect((await auth.whoami()).sub).toBe("dora");
    const as = await resolveAuthorizationServer({ issuer: provider.issuer, http: { allowInsecureRequests: true } });
    const plain = createProtocolContext(as, { clientId: "cli", http: { allowInsecureRequests: true } });
    const error = await fetchUserInfo(plain, tokens.accessToken).catch((e) => e);
    expect(error).toBeInstanceOf(CliAuthError);
    expect((error as CliAuthError).code).toBe("invalid_token");
  });

  it("a new instance refreshes with the stored key (the refresh token is bound to it)", async () => {
    const store = countingStore();
    const first = new CliAuth(testOptions(provider.issuer, { storage: store, dpop: true }));
    const { tokens } = await loginWithoutBrowser(first);
    await provider.reset();
    const later = new CliAuth(testOptions(provider.issuer, { storage: store, dpop: true }));
    const fresh = await later.getAccessToken({ forceRefresh: true });
    expect(fresh).not.toBe(tokens.accessToken);
    expect(await provider.tokenRequests("refresh_token")).toHaveLength(1);
    expect(JSON.parse(store.values.get("default")!).tokens.tokenType).toBe("DPoP");
    // Without the key, the refresh token is useless.
    const stolen = countingStore();
    const copy = JSON.parse(store.values.get("default")!);
    delete copy.dpopKey;
    stolen.values.set("default", JSON.stringify(copy));
    const thief = new CliAuth(testOptions(provider.issuer, { storage: stolen }));
    const error = await thief.getAccessToken({ forceRefresh: true }).catch((e) => e);
    expect(error).toBeInstanceOf(CliAuthError);
    // The provider answers invalid_grant to a refresh without the bound key: the copy is worthless.
    expect((error as CliAuthError).code).toBe("session_expired");
  });

  it("logs out: the bound refresh token is revoked at the provider", async () => {
    const store = countingStore();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store, dpop: true }));
    await loginWithoutBrowser(auth);
    const saved = store.values.get("default")!;
    expect(await auth.logout()).toEqual({ revoked: true, hadSession: true });
    store.values.set("default", saved);
    const error = await new CliAuth(testOptions(provider.issuer, { storage: store }))
      .getAccessToken({ forceRefresh: true }).catch((e) => e);
    expect((error as CliAuthError).code).toBe("session_expired");
  });

  it("honours use_dpop_nonce from the authorization server with one retry", async () => {
    const store = countingStore();
    const auth = new CliAuth(testOptions(withNonce.issuer, { storage: store, dpop: true }));
    const { tokens } = await loginWithoutBrowser(auth);
    expect(tokens.tokenType).toBe("DPoP");
    const requests = await withNonce.requests();
    const tokenCalls = requests.filter((r) => r.path === "/token");
    expect(tokenCalls.map((r) => r.error ?? "ok")).toEqual(["use_dpop_nonce", "ok"]);
    const later = new CliAuth(testOptions(withNonce.issuer, { storage: store, dpop: true }));
    expect(await later.getAccessToken({ forceRefresh: true })).not.toBe(tokens.accessToken);
  });

  it("auth.fetch sends a proof the API's verifier accepts; the token without a proof is refused", async () => {
    const { auth, tokens } = await apiLogin(api.resource);
    expect(tokens.tokenType).toBe("DPoP");
    const response = await auth.fetch(`${api.origin}/api/me`);
    expect(response.status).toBe(200);
    expect((await response.json()).subject).toBe("alice");
    const sent = api.seen.at(-1)!;
    expect(sent.authorization).toBe(`DPoP ${tokens.accessToken}`);
    expect(sent.dpop).toBeTruthy();
    const asBearer = await fetch(`${api.origin}/api/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(asBearer.status).toBe(401);
    const noProof = await fetch(`${api.origin}/api/me`, { headers: { authorization: `DPoP ${tokens.accessToken}` } });
    expect(noProof.status).toBe(401);
  });

  it("a replayed proof is refused by the verifier", async () => {
    const { auth, tokens } = await apiLogin(api.resource);
    expect((await auth.fetch(`${api.origin}/api/me`)).status).toBe(200);
    const { dpop } = api.seen.at(-1)!;
    const replay = await fetch(`${api.origin}/api/me`, {
      headers: { authorization: `DPoP ${tokens.accessToken}`, dpop: dpop! },
    });
    expect(replay.status).toBe(401);
    expect(replay.headers.get("www-authenticate")).toMatch(/DPoP[^,]*error="invalid_dpop_proof"/);
  });

  it("honours a nonce demanded by the API with one retry, then remembers it", async () => {
    const { auth } = await apiLogin(nonceApi.resource);
    const before = nonceApi.seen.length;
    expect((await auth.fetch(`${nonceApi.origin}/api/me`)).status).toBe(200);
    expect(nonceApi.seen.length - before).toBe(2);
    expect((await auth.fetch(`${nonceApi.origin}/api/me`)).status).toBe(200);
    expect(nonceApi.seen.length - before).toBe(3);
  });
});
