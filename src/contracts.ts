/**
 * The seams between the core and the runtime adapters: the only types `src/` and `adapters/` share.
 *
 * @module
 */

/**
 * Where sessions are kept: async, string values, keyed by account (the profile name). One store serves one
 * `service` (the keychain service / config folder name).
 *
 * @example A store of your own
 * ```ts
 * import type { CredentialStore } from "@x/cli-auth";
 * const values = new Map<string, string>();
 * const store: CredentialStore = {
 *   get: async (key) => values.get(key) ?? null,
 *   set: async (key, value) => void values.set(key, value),
 *   delete: async (key) => void values.delete(key),
 * };
 * ```
 */
export interface CredentialStore {
  /** The stored value, or `null` when there is none. */
  get(key: string): Promise<string | null>;
  /** Stores `value`, replacing any previous one. */
  set(key: string, value: string): Promise<void>;
  /** Removes the value; no error when there is none. */
  delete(key: string): Promise<void>;
  /** What kind of store this is, for `status()`; `"custom"` when absent. */
  readonly kind?: StorageKind;
}

/**
 * The kinds of store `status()` reports.
 *
 * @example Usage
 * ```ts
 * import type { StorageKind } from "@x/cli-auth";
 * const kind: StorageKind = "keychain";
 * ```
 */
export type StorageKind = "keychain" | "file" | "memory" | "custom";

/**
 * Where the library's few warnings go (default: stderr).
 *
 * @example Usage
 * ```ts
 * import type { Logger } from "@x/cli-auth";
 * const quiet: Logger = { warn: () => {} };
 * ```
 */
export interface Logger {
  warn(message: string): void;
}
