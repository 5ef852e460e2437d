// The session lifecycle against the real provider: getAccessToken (fresh path, single-flight refresh, failures),
// logout with revocation, whoami freshness, resolveToken precedence, profiles.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth } from "../../mod.ts";
import { countingStore, expireStoredSession, loginWithoutBrowser, testOptions } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { rejection } from "../support/reject.ts";

const REFRESH = "refresh_token";
let provider: TestProvider;

beforeAll(async () => {
  provider = await startProvider();
});
afterAll(async () => {
  await provider?.close();
});

describe("getAccessToken()", () => {
  it("serves a fresh token with no request to the provider and one storage read", async () => {
    const store = countingStore();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store }));
    const { tokens } = await loginWithoutBrowser(auth);
    await provider.reset();
    // A new instance, as a new CLI process would be.
    const later = new CliAuth(testOptions(provider.issuer, { storage: store }));
    const readsBefore = store.reads;
    expect(await later.getAccessToken()).toBe(tokens.accessToken);
    expect(store.reads - readsBefore).toBe(1);
    expect(await provider.requests()).toEqual([]);
  });

  it("refreshes an expiring token once for 100 concurrent callers, saving the rotated refresh token", async () => {
    const store = countingStore();
    await loginWithoutBrowser(new CliAuth(testOptions(provider.issuer, { storage: store })));
    const before = JSON.parse(store.values.get("default")!);
    await expireStoredSession(store);
    await provider.reset();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store }));
    const tokens = await Promise.all(Array.from({ length: 100 }, () => auth.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(before.tokens.accessToken);
    expect(await provider.tokenRequests(REFRESH)).toHaveLength(1);
    const after = JSON.parse(store.values.get("default")!);
    expect(after.tokens.accessToken).toBe(tokens[0]);
    expect(after.tokens.refreshToken).not.toBe(before.tokens.refreshToken);
    // The rotated refresh token works; the old one was spent.
    const again = await auth.getAccessToken({ forceRefresh: true });
    expect(again).not.toBe(tokens[0]);
  });

  it("throws not_logged_in with a hint when there is no session", async () => {
    const auth = new CliAuth(testOptions(provider.issuer, { loginCommand: "my-cli login" }));
    const error = await rejection(auth.getAccessToken());
    expect(error.code).toBe("not_logged_in");
    expect(error.hint).toBe("Run `my-cli login`");
  });

  it("turns invalid_grant into session_expired and clears the profile", async () => {
    const store = countingStore();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store }));
    const { tokens } = await loginWithoutBrowser(auth);
    // Due for refresh (an expired access token), and the refresh token spent behind the library's back (a copy of
    // the session refreshes it): the stored one is now an already-rotated token, which the provider refuses.
    await expireStoredSession(store);
    const copy = countingStore();
    copy.values.set("default", store.values.get("default")!);
    await new CliAuth(testOptions(provider.issuer, { storage: copy })).getAccessToken();
    const error = await rejection(auth.getAccessToken());
    expect(error.code).toBe("session_expired");
    expect(error.hint).toMatch(/login/);
    expect(JSON.stringify(error)).not.toContain(tokens.refreshToken!);
    expect(store.values.has("default")).toBe(false);
    expect(await auth.getSession()).toBeNull();
  });

  it("keeps the session when the provider is down during refresh (network_error)", async () => {
    const own = await startProvider();
    const store = countingStore();
    const auth = new CliAuth(testOptions(own.issuer, { storage: store, timeoutMs: 2_000 }));
    await loginWithoutBrowser(auth);
    await expireStoredSession(store);
    const stored = store.values.get("default");
    await own.close();
    const error = await rejection(auth.getAccessToken());
    expect(error.code).toBe("network_error");
    expect(store.values.get("default")).toBe(stored);
  });
});

describe("logout()", () => {
  it("revokes at the provider (a refresh then fails) and clears local state", async () => {
    const store = countingStore();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store }));
    const { tokens } = await loginWithoutBrowser(auth);
    const saved = store.values.get("default")!;
    const result = await auth.logout();
    expect(result).toEqual({ revoked: true, hadSession: true });
    expect(await auth.getSession()).toBeNull();
    expect((await auth.status()).loggedIn).toBe(false);
    // Put the old session back and try to refresh it: the provider says it was revoked.
    store.values.set("default", saved);
    const error = await rejection(new CliAuth(testOptions(provider.issuer, { storage: store })).getAccessToken({ forceRefresh: true }));
    expect(error.code).toBe("session_expired");
    expect(tokens.refreshToken).toBeTruthy();
  });

  it("clears local state even when the provider is down, reporting revoked: false", async () => {
    const own = await startProvider();
    const store = countingStore();
    const auth = new CliAuth(testOptions(own.issuer, { storage: store, timeoutMs: 1_000 }));
    await loginWithoutBrowser(auth);
    await own.close();
    expect(await auth.logout()).toEqual({ revoked: false, hadSession: true });
    expect(store.values.size).toBe(0);
  });

  it("only clears with revoke: false", async () => {
    const store = countingStore();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store }));
    await loginWithoutBrowser(auth);
    await provider.reset();
    expect(await auth.logout({ revoke: false })).toEqual({ revoked: false, hadSession: true });
    expect((await provider.requests()).filter((r) => r.path.includes("revocation"))).toEqual([]);
    expect(store.values.size).toBe(0);
  });
});

describe("whoami()", () => {
  it("reflects a change made at the provider after login (never cached)", async () => {
    const auth = new CliAuth(testOptions(provider.issuer));
    const { user } = await loginWithoutBrowser(auth, "erin");
    expect(user?.name).toBe("erin");
    expect((await auth.whoami()).name).toBe("erin");
    await provider.setClaims("erin", { name: "Erin Renamed" });
    expect((await auth.whoami()).name).toBe("Erin Renamed");
    expect((await auth.getSession())?.user?.name).toBe("erin");
  });
});

describe("resolveToken()", () => {
  const variable = "CLI_AUTH_TEST_TOKEN";
  const withEnv = (value: string | undefined) => {
    if (value === undefined) delete process.env[variable];
    else process.env[variable] = value;
  };

  for (const arg of [undefined, "", "  ", "arg-token"]) {
    for (const env of [undefined, "", "env-token"]) {
      for (const loggedIn of [false, true]) {
        const expected = arg?.trim() ? "arg" : env ? "env" : loggedIn ? "oauth" : "none";
        it(`arg=${JSON.stringify(arg)} env=${JSON.stringify(env)} loggedIn=${loggedIn} → ${expected}`, async () => {
          const store = countingStore();
          const auth = new CliAuth(testOptions(provider.issuer, { storage: store, tokenEnvVar: variable }));
          let accessToken = "";
          if (loggedIn) accessToken = (await loginWithoutBrowser(auth)).tokens.accessToken;
          withEnv(env);
          try {
            if (expected === "none") {
              const error = await rejection(auth.resolveToken({ tokenFromArg: arg }));
              expect(error.code).toBe("not_logged_in");
              expect(error.hint).toContain("--token");
              expect(error.hint).toContain(variable);
              expect(error.hint).toContain("cli-auth-test login");
              return;
            }
            const resolved = await auth.resolveToken({ tokenFromArg: arg });
            expect(resolved.source).toBe(expected);
            expect(resolved.token).toBe(expected === "arg" ? "arg-token" : expected === "env" ? "env-token" : accessToken);
          } finally {
            withEnv(undefined);
          }
        });
      }
    }
  }
});

describe("profiles", () => {
  it("keeps accounts side by side; logout of one leaves the other", async () => {
    const store = countingStore();
    const work = new CliAuth(testOptions(provider.issuer, { storage: store, profile: "work" }));
    const home = new CliAuth(testOptions(provider.issuer, { storage: store, profile: "home" }));
    await loginWithoutBrowser(work, "wendy");
    await loginWithoutBrowser(home, "harry");
    expect((await work.status()).user?.sub).toBe("wendy");
    expect((await home.status()).user?.sub).toBe("harry");
    await work.logout();
    expect((await work.status()).loggedIn).toBe(false);
    expect((await home.status()).loggedIn).toBe(true);
    expect((await home.whoami()).sub).toBe("harry");
  });
});

describe("status()", () => {
  it("reports the session without network", async () => {
    const store = countingStore();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store }));
    await loginWithoutBrowser(auth, "sam");
    await provider.reset();
    const status = await auth.status();
    expect(status).toMatchObject({ loggedIn: true, profile: "default", storage: "memory", refreshable: true });
    expect(status.user?.sub).toBe("sam");
    expect(status.expiresAt).toBeGreaterThan(Date.now());
    expect(status.scopes).toContain("openid");
    expect(await provider.requests()).toEqual([]);
  });
});
