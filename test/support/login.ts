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
