/**
 * The OS keychain through Bun's built-in `Bun.secrets` (Keychain Services on macOS, libsecret on Linux, Credential
 * Manager on Windows): no subprocess at all, which matters most on Windows where PowerShell takes a second to start.
 *
 * `keychainStore()` uses it on Linux and Windows only: on macOS an item `Bun.secrets` creates trusts the running
 * binary, and a CLI rebuilt with `bun build --compile` would make macOS ask for the keychain password after every
 * upgrade (see `mod.ts`).
 *
 * `Bun.secrets` is looked up when a store is made, never at import, so this module loads on Deno and Node too.
 * Entries have the same service and account (`name`) as the other keychain stores, and the same split format for
 * large values: a value written by `secret-tool` or `security` reads back here, and the other way round. Bun treats
 * storing `""` as deleting, and refuses NUL characters; the first is handled by the split format (see `_chunks.ts`),
 * the second is an `invalid_options` error.
 *
 * On Windows, `Bun.secrets` keeps entries in Credential Manager, which compares names without regard to case; entry
 * names there are written in the case-safe form of `_case_safe_names.ts` (`Prod` → `%50rod`, `default` unchanged), so
 * `Prod` and `prod` are two profiles, as on every other store. Earlier versions wrote raw names; a raw-named entry
 * is read (and moved on the next write, removed on delete) only where its name cannot be another profile's
 * case-safe name: when the key holds a character such as `:`, `@` or a space (registered clients, `me@corp`). A
 * profile that differs from its case-safe form only by capitals (`Work`) starts afresh: `Bun.secrets` cannot say
 * which profile wrote `Work`, and Credential Manager holds it as the same entry as `work`.
 *
 * @module
 */
import { isCliAuthError, sanitizedCause } from "../../src/common/errors.ts";
import { checkService } from "../../src/names.ts";
import { type StoreAction, storeError } from "../storage/_store_error.ts";
import { caseSafeName, rawNameIsDistinct } from "./_case_safe_names.ts";
import { chunkedStore, type EntryBackend } from "./_chunks.ts";
import { currentOs, osName } from "../os.ts";
import { type BunSecrets, getBunSecrets } from "./_bun_api.ts";
import type { KeychainStore } from "./types.ts";

export { type BunSecrets, getBunSecrets };

/**
 * Options of {@link bunSecretsStore}.
 *
 * @example Usage
 * ```ts
 * import type { BunSecretsStoreOptions } from "./bun_secrets.ts";
 * const options: BunSecretsStoreOptions = { service: "my-cli" };
 * ```
 */
export interface BunSecretsStoreOptions {
  /** The service of the entries (your CLI's name). */
  service: string;
  /** The API to use (default: `Bun.secrets`); tests pass a fake. */
  secrets?: BunSecrets;
  /**
   * The OS (default: this machine's): on `"windows"` (or `"win32"`) values are split at 1,280 bytes to fit a
   * credential blob, and entry names are case-safe.
   */
  platform?: string;
}

/**
 * On Windows a credential blob holds 2,560 bytes; Bun may store UTF-16, and 1,280 UTF-8 bytes never take more than
 * 1,280 UTF-16 code units.
 */
const WINDOWS_MAX_BYTES = 1_280;

/**
 * A credential store on `Bun.secrets`.
 *
 * @param options service name; the API and platform for tests
 * @returns a store whose `probe()` writes and deletes a throwaway entry
 * @throws {CliAuthError} `storage_unavailable` when there is no `Bun.secrets` (on creation) or the OS keychain
 * fails (from its methods); `storage_corrupt` when a split value lost a part; `invalid_options` for a bad name or a
 * value with a NUL character
 *
 * @example Usage
 * ```ts
 * import { bunSecretsStore, getBunSecrets } from "./bun_secrets.ts";
 * if (getBunSecrets()) {
 *   const store = bunSecretsStore({ service: "my-cli" });
 *   await store.set("default", JSON.stringify({ accessToken: "…" }));
 * }
 * ```
 */
export function bunSecretsStore(options: BunSecretsStoreOptions): KeychainStore {
  checkService(options.service);
  const service = options.service;
  const secrets = options.secrets ?? getBunSecrets();
  if (!secrets) {
    throw storeError("storage_unavailable", "probe", service, "this runtime has no Bun.secrets", {
      hint: "Use keychainStore(), which picks the OS tool when Bun.secrets is missing",
    });
  }
  const windows = (options.platform === undefined ? currentOs() : osName(options.platform)) === "windows";
  const profileOf = (name: string) => name.replace(/:part:[0-9a-f]{16}:\d+$/, "");

  const failure = (error: unknown, action: StoreAction, profile: string) => {
    if (isCliAuthError(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown })?.code;
    const cause = sanitizedCause(error);
    if (/locked|interaction is not allowed/i.test(message)) {
      return storeError("storage_unavailable", action, profile, "the keychain is locked", {
        cause,
        hint: 'Unlock your keychain, or use `storage: "file"`',
      });
    }
    if (/d-?bus|autolaunch|\$DISPLAY|secret service|org\.freedesktop\.secrets/i.test(message)) {
      return storeError("storage_unavailable", action, profile, "the Secret Service cannot be reached over D-Bus", {
        cause,
        hint: 'The Secret Service needs a desktop session; over SSH, in containers and in CI use `storage: "file"`',
      });
    }
    return storeError(
      "storage_unavailable",
      action,
      profile,
      `Bun.secrets failed${typeof code === "string" ? ` (${code})` : ""}`,
      { cause, hint: 'Check that the OS keychain works for your user, or use `storage: "file"`' },
    );
  };

  async function attempt<T>(action: StoreAction, profile: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw failure(error, action, profile);
    }
  }

  /** Entries named by `entryName` (names are store keys, or keys and `:part:<id>:<n>`). */
  const backendNaming = (entryName: (name: string) => string): EntryBackend => ({
    read: (name, action) => attempt(action, profileOf(name), () => secrets.get({ service, name: entryName(name) })),
    async write(entries) {
      for (const { name, value } of entries) {
        if (value.includes("\0")) {
          throw storeError("invalid_options", "store", profileOf(name), "the value contains a NUL character");
        }
        await attempt("store", profileOf(name), () => secrets.set({ service, name: entryName(name), value }));
      }
    },
    async remove(names) {
      for (const name of names) {
        await attempt("delete", profileOf(name), () => secrets.delete({ service, name: entryName(name) }));
      }
    },
    maxBytes: () => (windows ? WINDOWS_MAX_BYTES : Number.POSITIVE_INFINITY),
  });

  const store = chunkedStore(backendNaming(windows ? caseSafeName : (name) => name));
  // Windows: what earlier versions stored under raw names, for the keys whose raw name is unambiguous.
  const raw = windows ? chunkedStore(backendNaming((name) => name)) : undefined;
  const rawOf = (key: string) => (raw && rawNameIsDistinct(key) ? raw : undefined);

  return {
    async get(key) {
      const value = await store.get(key);
      return value === null ? (await rawOf(key)?.get(key)) ?? null : value;
    },
    async set(key, value) {
      await store.set(key, value);
      await rawOf(key)?.delete(key);
    },
    async delete(key) {
      await store.delete(key);
      await rawOf(key)?.delete(key);
    },
    kind: "keychain",
    backend: "bun-secrets",
    async probe() {
      await attempt("probe", service, () => secrets.set({ service: "cli-auth-probe", name: service, value: "probe" }));
      await attempt("probe", service, () => secrets.delete({ service: "cli-auth-probe", name: service }));
    },
  };
}
