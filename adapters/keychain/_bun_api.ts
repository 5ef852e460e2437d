/**
 * `Bun.secrets` as the keychain stores see it: the part they use, and whether this runtime has it. Apart from
 * `bun_secrets.ts` so that `keychainStore()` can choose its backend without loading that backend.
 *
 * @module
 */

/**
 * The part of `Bun.secrets` the store uses.
 *
 * @example A fake for tests
 * ```ts
 * import type { BunSecrets } from "./_bun_api.ts";
 * const items = new Map<string, string>();
 * const secrets: BunSecrets = {
 *   get: async ({ service, name }) => items.get(`${service}/${name}`) ?? null,
 *   set: async ({ service, name, value }) => void items.set(`${service}/${name}`, value),
 *   delete: async ({ service, name }) => items.delete(`${service}/${name}`),
 * };
 * ```
 */
export interface BunSecrets {
  /** The stored value, or `null`. */
  get(options: { service: string; name: string }): Promise<string | null>;
  /** Stores a value (Bun deletes the entry when `value` is `""`). */
  set(options: { service: string; name: string; value: string }): Promise<void>;
  /** Deletes the entry; whether there was one. */
  delete(options: { service: string; name: string }): Promise<boolean>;
}

/**
 * `Bun.secrets` when running on a Bun that has it (1.3+), else `undefined`.
 *
 * @returns the Bun secrets API
 *
 * @example Usage
 * ```ts
 * import { getBunSecrets } from "./_bun_api.ts";
 * console.log(getBunSecrets() ? "Bun.secrets available" : "not on Bun");
 * ```
 */
export function getBunSecrets(): BunSecrets | undefined {
  const secrets = (globalThis as { Bun?: { secrets?: unknown } }).Bun?.secrets as Partial<BunSecrets> | undefined;
  if (
    secrets && typeof secrets.get === "function" && typeof secrets.set === "function" &&
    typeof secrets.delete === "function"
  ) {
    return secrets as BunSecrets;
  }
  return undefined;
}
