// DPoP-bound sessions (RFC 9449) against the real provider with features.dPoP on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth, CliAuthError, createProtocolContext, fetchUserInfo, resolveAuthorizationServer } from "../mod.ts";
import { countingStore, loginWithoutBrowser, testOptions } from "./support/login.ts";
import { startProvider, type TestProvider } from "./support/provider.ts";

let provider: TestProvider;
let withNonce: TestProvider;

beforeAll(async () => {
  [provider, withNonce] = await Promise.all([startProvider({ dpop: true }), startProvider({ dpop: true, dpopNonce: true })]);
});
afterAll(async () => {
  await Promise.all([provider?.close(), withNonce?.close()]);
});

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
    const later = new CliAuth(testOptions(provider.issuer, { storage: store, dpop: true, refreshSkewSeconds: 7200 }));
    const fresh = await later.getAccessToken();
    expect(fresh).not.toBe(tokens.accessToken);
    expect(await provider.tokenRequests("refresh_token")).toHaveLength(1);
    expect(JSON.parse(store.values.get("default")!).tokens.tokenType).toBe("DPoP");
    // Without the key, the refresh token is useless.
    const stolen = countingStore();
    const copy = JSON.parse(store.values.get("default")!);
    delete copy.dpopKey;
    stolen.values.set("default", JSON.stringify(copy));
    const thief = new CliAuth(testOptions(provider.issuer, { storage: stolen, refreshSkewSeconds: 7200 }));
    const error = await thief.getAccessToken().catch((e) => e);
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
    const error = await new CliAuth(testOptions(provider.issuer, { storage: store, refreshSkewSeconds: 7200 }))
      .getAccessToken().catch((e) => e);
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
    const later = new CliAuth(testOptions(withNonce.issuer, { storage: store, dpop: true, refreshSkewSeconds: 7200 }));
    expect(await later.getAccessToken()).not.toBe(tokens.accessToken);
  });
});
