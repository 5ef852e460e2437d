// Logging a CliAuth in against the test provider without a browser: the scripted HTTP user completes login and
// consent, then loads the callback on the library's real loopback listener.
import type { CliAuth, CliAuthOptions, CredentialStore, LoginResult } from "../../mod.ts";
import { authorizeWithoutBrowser } from "./interact.ts";

export function loginWithoutBrowser(auth: CliAuth, user = "alice"): Promise<LoginResult> {
  return auth.login({
    flow: "browser",
    onAuthorizationUrl: () => {},
    openBrowser: async (url) => {
      const callback = await authorizeWithoutBrowser(url, { login: user });
      await (await fetch(callback)).text();
    },
  });
}

/** A memory store several CliAuth instances can share, counting reads and writes. */
export function countingStore(): CredentialStore & { values: Map<string, string>; reads: number; writes: number } {
  const values = new Map<string, string>();
  const store = {
    kind: "memory" as const,
    values,
    reads: 0,
    writes: 0,
    get(key: string) {
      store.reads++;
      return Promise.resolve(values.get(key) ?? null);
    },
    set(key: string, value: string) {
      store.writes++;
      values.set(key, value);
      return Promise.resolve();
    },
    delete(key: string) {
      values.delete(key);
      return Promise.resolve();
    },
  };
  return store;
}

export function testOptions(issuer: string, extra: Partial<CliAuthOptions> = {}): CliAuthOptions {
  return { issuer, clientId: "cli", service: "cli-auth-test", allowInsecureRequests: true, storage: "memory", ...extra };
}

/**
 * Makes the stored access token look expired (its `expiresAt` in the past), while tokens refreshed afterwards carry
 * their real expiry: so a refresh is due exactly once, however late a concurrent caller reads the store.
 */
export async function expireStoredSession(store: CredentialStore, profile = "default"): Promise<void> {
  const value = await store.get(profile);
  if (value === null) throw new Error(`no stored session for profile "${profile}"`);
  const session = JSON.parse(value);
  session.tokens.expiresAt = Date.now() - 60_000;
  await store.set(profile, JSON.stringify(session));
}

/** Where a pending login of the default profile is stored (`pending-login:<profile>`, src/names.ts), as the tests look for it. */
export const PENDING_LOGIN_KEY = "pending-login:default";
