// loginWithToken(): a token the user already has, kept as the session in the credentials file and in a real keychain
// (a private gnome-keyring through secret-tool; Bun.secrets on Bun). The token is a real access token of the test
// provider for the test API, obtained by another login, so the API's identity route can check it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileStore, keychainStore } from "../../adapters/mod.ts";
import { CliAuth, type CredentialStore } from "../../mod.ts";
import { errorTexts } from "../hardening/secrets.ts";
import { startKeyring, type TestKeyring } from "../support/keyring.ts";
import { loginWithoutBrowser, testOptions } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { rejection } from "../support/reject.ts";
import { type ResourceServer, startResourceServer } from "../support/resource_server.ts";

let provider: TestProvider;
let api: ResourceServer;
let keyring: TestKeyring;
let dir: string;
/** A real access token for the API, as a user would have copied it from somewhere. */
let token: string;

beforeAll(async () => {
  api = await startResourceServer();
  [provider, keyring] = await Promise.all([
    startProvider({ resources: { [api.resource]: { format: "jwt", scope: "api:read" } } }),
    startKeyring(),
  ]);
  api.trust(provider.issuer);
  dir = mkdtempSync(join(tmpdir(), "cli-auth-token-login-"));
  const elsewhere = new CliAuth(testOptions(provider.issuer, { resource: api.resource, scopes: ["openid", "api:read"] }));
  token = (await loginWithoutBrowser(elsewhere, "tina")).tokens.accessToken;
  // The API's verifier reads the provider's discovery and keys once: let it, so that the provider sees only the CLI.
  expect((await fetch(`${api.origin}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
});
afterAll(async () => {
  await Promise.all([provider?.close(), api?.close(), keyring?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const stores: Record<string, () => CredentialStore> = {
  "the credentials file": () => fileStore({ service: "cli-auth-token", dir }),
  "a real keychain": () =>
    keychainStore({ service: `cli-auth-token-${process.pid}`, platform: "linux", env: keyring.env, timeoutMs: 10_000 }),
};

const withToken = (storage: CredentialStore) =>
  new CliAuth(testOptions(provider.issuer, { storage, identityEndpoint: `${api.origin}/api/me`, resource: api.resource }));

describe("loginWithToken()", () => {
  for (const [name, make] of Object.entries(stores)) {
    it(`keeps the token in ${name}: handed out with no request, never refreshed, forgotten without revocation`, async () => {
      await withToken(make()).loginWithToken(`${token}\n`);
      await provider.reset();
      // Another instance (as another process): the stored token, as given, without the newline.
      const auth = withToken(make());
      expect(await auth.getAccessToken()).toBe(token);
      expect(await auth.resolveToken()).toEqual({ token, source: "stored" });
      expect(await provider.requests()).toEqual([]);
      const status = await auth.status();
      expect(status).toMatchObject({ loggedIn: true, refreshable: false });
      expect(status.expiresAt).toBeUndefined();
      expect((await auth.getSession())?.flow).toBe("token");
      // whoami() asks the API's identity route with the token.
      const seen = api.seen.length;
      expect((await auth.whoami()).sub).toBe("tina");
      expect(api.seen.slice(seen).map((s) => s.authorization)).toEqual([`Bearer ${token}`]);
      // Refused by the API: nothing to refresh it with; the token stays until the user replaces it.
      api.rejectNext(1);
      const refused = await rejection(auth.whoami());
      expect(refused.code).toBe("invalid_token");
      expect((await rejection(auth.getAccessToken({ forceRefresh: true }))).code).toBe("invalid_token");
      expect(await auth.getAccessToken()).toBe(token);
      expect(await provider.requests()).toEqual([]);
      // Logout forgets it and revokes nothing.
      expect(await auth.logout()).toEqual({ revoked: false, hadSession: true });
      expect(await provider.requests()).toEqual([]);
      expect((await rejection(withToken(make()).getAccessToken())).code).toBe("not_logged_in");
      expect((await withToken(make()).status()).loggedIn).toBe(false);
    });
  }

  it("auth.fetch sends the stored token, and on 401 does not refresh it", async () => {
    const storage = stores["the credentials file"]!();
    const auth = withToken(storage);
    await auth.loginWithToken(token);
    await provider.reset();
    expect((await auth.fetch(`${api.origin}/api/me`)).status).toBe(200);
    api.rejectNext(1);
    expect((await rejection(auth.fetch(`${api.origin}/api/me`))).code).toBe("invalid_token");
    expect(await provider.tokenRequests("refresh_token")).toEqual([]);
    expect(await auth.getAccessToken()).toBe(token);
    await auth.logout();
  });

  it("refuses an empty token, or one with control characters, with invalid_options that never quote it", async () => {
    const secret = "pat-LEAK-0123456789abcdef";
    const auth = withToken(stores["the credentials file"]!());
    const bad = ["", "\n", "   \r\n", `${secret}\n\n`, `${secret}\nsecond-line`, `${secret}\u0000`, `${secret}\u009b2J`, `\u001b[2J${secret}`];
    for (const value of bad) {
      const error = await rejection(auth.loginWithToken(value));
      expect(error.code, JSON.stringify(value)).toBe("invalid_options");
      expect(errorTexts(error).filter((text) => text.includes(secret))).toEqual([]);
    }
    expect(await auth.getSession()).toBeNull();
    await auth.loginWithToken(`${secret}\r\n`);
    expect(await auth.getAccessToken()).toBe(secret);
    await auth.logout();
  });

  it("refuses a token with characters no HTTP header carries (non-ASCII, spaces), never quoting it", async () => {
    const secret = "pat-LEAK-0123456789abcdef";
    const auth = withToken(stores["the credentials file"]!());
    for (const value of [`${secret}\u20ac`, `  ${secret}  `, ` ${secret}`, `${secret} \n`, `pat LEAK`, `${secret}\u00e9`, `\u{1F511}${secret}`]) {
      const error = await rejection(auth.loginWithToken(value));
      expect(error.code, JSON.stringify(value)).toBe("invalid_options");
      expect(errorTexts(error).filter((text) => text.includes(secret) || text.includes("LEAK"))).toEqual([]);
    }
    expect(await auth.getSession()).toBeNull();
    // Every visible ASCII character is fine (JWTs, base64, API keys with punctuation).
    const visible = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join("");
    await auth.loginWithToken(`${visible}\n`);
    expect(await auth.getAccessToken()).toBe(visible);
    await auth.logout();
  });

  for (const name of ["an issuer and client ID", "a resource URL only"]) {
    it(`whoami() without identityEndpoint (${name}) never sends the stored token to the authorization server`, async () => {
      const extra = name === "a resource URL only" ? { issuer: undefined, clientId: undefined, resource: api.resource } : {};
      const auth = new CliAuth(testOptions(provider.issuer, { storage: stores["the credentials file"]!(), ...extra }));
      await auth.loginWithToken(token);
      await provider.reset();
      const error = await rejection(auth.whoami());
      expect(error.code, error.message).toBe("unsupported_flow");
      expect(error.message).toContain("identityEndpoint");
      expect(error.hint).toContain("identityEndpoint");
      expect(errorTexts(error).filter((text) => text.includes(token))).toEqual([]);
      expect(await provider.requests()).toEqual([]);
      await auth.logout();
    });
  }
});
