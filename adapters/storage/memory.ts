/**
 * Credentials kept in memory only, for tests and one-shot tools (`storage: "memory"`): gone when the process ends.
 *
 * @module
 */
import type { CredentialStore } from "../../src/contracts.ts";
import { checkStorageKey } from "../../src/names.ts";

/**
 * A {@link CredentialStore} in memory.
 *
 * @example Usage
 * ```ts
 * import { memoryStore, type MemoryStore } from "@x/cli-auth/adapters";
 * const store: MemoryStore = memoryStore();
 * console.log(store.kind); // "memory"
 * ```
 */
export interface MemoryStore extends CredentialStore {
  /** Always `"memory"`. */
  readonly kind: "memory";
}

/**
 * A credential store in a `Map`, optionally filled with `initial` values.
 *
 * @param initial profiles and their values to start with
 * @returns the store
 * @throws {CliAuthError} `invalid_options` from its methods for a bad profile name
 *
 * @example Usage
 * ```ts
 * import { memoryStore } from "@x/cli-auth/adapters";
 * const store = memoryStore({ default: JSON.stringify({ accessToken: "test" }) });
 * await store.set("work", "{}");
 * console.assert((await store.get("work")) === "{}");
 * ```
 */
export function memoryStore(initial: Record<string, string> = {}): MemoryStore {
  const values = new Map<string, string>(Object.entries(initial));
  // Checks run inside the promise, so a bad name rejects like in the other stores instead of throwing.
  const later = <T>(work: () => T): Promise<T> => Promise.resolve().then(work);
  return {
    kind: "memory",
    get: (profile) =>
      later(() => {
        checkStorageKey(profile);
        return values.get(profile) ?? null;
      }),
    set: (profile, value) =>
      later(() => {
        checkStorageKey(profile);
        if (typeof value !== "string") throw new TypeError("A credential value must be a string");
        values.set(profile, value);
      }),
    delete: (profile) =>
      later(() => {
        checkStorageKey(profile);
        values.delete(profile);
      }),
  };
}
