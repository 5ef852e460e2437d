/**
 * A store that loads its implementation on first use: `storage: "auto" | "keychain" | "file"` cost nothing at import
 * time, and the keychain, file and lock modules load only when a session is read or written.
 *
 * @module
 */
import type { CredentialStore, StorageKind } from "../../src/contracts.ts";

/**
 * Wraps a store that is created on first use.
 *
 * @param kind the kind to report before the store is loaded (`undefined` when only the store knows, as `"auto"`)
 * @param load creates the store
 * @returns a store that delegates to it
 *
 * @example Usage
 * ```ts
 * import { memoryStore } from "@x/cli-auth/adapters";
 * import { lazyStore } from "./lazy.ts";
 * const store = lazyStore("memory", () => Promise.resolve(memoryStore()));
 * await store.set("default", "{}");
 * ```
 */
export function lazyStore(kind: StorageKind | undefined, load: () => Promise<CredentialStore>): CredentialStore {
  let loaded: CredentialStore | undefined;
  let loading: Promise<CredentialStore> | undefined;
  const store = () =>
    loading ??= load().then((value) => {
      loaded = value;
      return value;
    });
  return {
    get kind() {
      return loaded?.kind ?? kind;
    },
    get: async (key) => await (await store()).get(key),
    set: async (key, value) => await (await store()).set(key, value),
    delete: async (key) => await (await store()).delete(key),
  };
}
