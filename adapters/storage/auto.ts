/**
 * `storage: "auto"`: the OS keychain when it can be used, else the credentials file, with exactly one backend
 * holding a profile at a time.
 *
 * - The keychain is probed once, on first use (`probe()` writes and removes a throwaway entry, or reads one on
 *   Windows). If it works, it is the backend for the life of this store: each read, write and delete also removes
 *   the file copy of that profile, so a stale file session can never come back. A file copy found while the keychain
 *   has none (a login made while the keychain was out of reach) is moved into the keychain.
 * - If it does not work (`storage_unavailable`: no D-Bus session, locked keyring, no `secret-tool`, …), the file is
 *   the backend, and `logger.warn` says why and where the credentials are: once, when a write first puts a profile
 *   into the file (a login). Reads, rewrites of a stored profile (refreshes) and finding nothing stay silent, so
 *   that every `whoami` or `status` of every process does not repeat it; `status()` names the file backend.
 * - Once chosen, the keychain's errors are the caller's: a keychain that fails later is reported, not silently
 *   replaced by a file that the next process would not read.
 *
 * @module
 */
import type { CredentialStore, Logger } from "../../src/contracts.ts";
import { type CliAuthError, isCliAuthError } from "../../src/common/errors.ts";
import { keychainStore } from "../keychain/mod.ts";
import type { CommandRunner } from "../subprocess.ts";
import { type FileStore, fileStore } from "./file.ts";
import { checkService, checkStorageKey, isPendingLoginKey, isRegisteredClientKey } from "../../src/names.ts";

/**
 * Options of {@link autoStore}.
 *
 * @example Usage
 * ```ts
 * import type { AutoStoreOptions } from "@x/cli-auth/adapters";
 * const options: AutoStoreOptions = { service: "my-cli", logger: { warn: (m) => console.error(m) } };
 * ```
 */
export interface AutoStoreOptions {
  /** Names the keychain entries and the config folder (your CLI's name). */
  service: string;
  /** Where the one warning goes when credentials end up in the file (default: stderr). */
  logger?: Logger;
  /** The keychain to try (default: `keychainStore()` with `runner`, `platform`, `timeoutMs`, `env`). */
  keychain?: CredentialStore & { probe?(): Promise<void> };
  /** The file store to fall back to (default: `fileStore()` with `dir` and `logger`). */
  file?: FileStore;
  /** The folder of the credentials file (see `fileStore`). */
  dir?: string;
  /** Passed to `keychainStore`. */
  runner?: CommandRunner;
  /** Passed to `keychainStore`. */
  platform?: string;
  /** Passed to `keychainStore`. */
  timeoutMs?: number;
  /** Passed to `keychainStore`. */
  env?: Record<string, string | undefined>;
}

/**
 * The store behind `storage: "auto"`.
 *
 * @example Usage
 * ```ts
 * import { autoStore, type AutoStore } from "@x/cli-auth/adapters";
 * const store: AutoStore = autoStore({ service: "my-cli" });
 * console.log(await store.active()); // "keychain" or "file"
 * ```
 */
export interface AutoStore extends CredentialStore {
  /** The backend in use once decided (after the first operation or `active()`); `undefined` before. */
  readonly kind: "keychain" | "file" | undefined;
  /** Decides the backend now if not yet done (probing the keychain), and names it. */
  active(): Promise<"keychain" | "file">;
}

/**
 * A credential store that uses the OS keychain when it can and the credentials file when it cannot.
 *
 * @param options service name and logger; the keychain and file stores or their options
 * @returns the store; nothing is probed until it is used
 * @throws {CliAuthError} `invalid_options` for a bad service name; from its methods the errors of the chosen
 * backend (`storage_unavailable`, `storage_corrupt`, `timeout`, `invalid_options`)
 *
 * @example Usage
 * ```ts
 * import { autoStore } from "@x/cli-auth/adapters";
 * const store = autoStore({ service: "my-cli", logger: { warn: (m) => console.error(m) } });
 * await store.set("default", JSON.stringify({ accessToken: "…" }));
 * console.log(store.kind, await store.get("default"));
 * ```
 */
export function autoStore(options: AutoStoreOptions): AutoStore {
  checkService(options.service);
  const logger = options.logger ?? { warn: (message: string) => console.error(message) };
  const file = options.file ?? fileStore({ service: options.service, dir: options.dir, logger });
  const keychain = options.keychain ??
    keychainStore({
      service: options.service,
      runner: options.runner,
      platform: options.platform,
      timeoutMs: options.timeoutMs,
      env: options.env,
    });
  let chosen: "keychain" | "file" | undefined;
  let deciding: Promise<"keychain" | "file"> | undefined;
  /** Why the keychain could not be used, for the warning. */
  let keychainFailure = "";
  let warned = false;

  const fallBack = (error: CliAuthError): "file" => {
    chosen = "file";
    keychainFailure = error.message;
    return "file";
  };

  /**
   * Stores a key in the file, saying why and where if it is the first profile this store puts there. What a login
   * keeps beside a profile (a pending login, a registered client) says nothing: the session that follows it does.
   */
  const storeInFile = async (profile: string, value: string) => {
    let first = false;
    if (!warned && !isPendingLoginKey(profile) && !isRegisteredClientKey(profile)) {
      try {
        first = (await file.get(profile)) === null;
      } catch {
        // An unreadable file: the write below reports it.
      }
    }
    await file.set(profile, value);
    if (!first || warned) return;
    warned = true;
    const where = await file.location();
    logger.warn(`${keychainFailure}; credentials are stored in the file ${where} instead, readable only by you`);
  };

  const decide = (): Promise<"keychain" | "file"> =>
    deciding ??= (async () => {
      try {
        await keychain.probe?.();
      } catch (error) {
        if (isCliAuthError(error, "storage_unavailable")) return fallBack(error);
        deciding = undefined; // not a verdict on the keychain: let the next call try again
        throw error;
      }
      chosen = "keychain";
      return chosen;
    })();

  /** Removes the file copy of a profile the keychain now holds; a corrupt file is left for the user. */
  const dropFileCopy = async (profile: string, quiet: boolean) => {
    try {
      await file.delete(profile);
    } catch (error) {
      if (isCliAuthError(error, "storage_corrupt") || (quiet && isCliAuthError(error))) return;
      throw error;
    }
  };

  return {
    get kind() {
      return chosen;
    },
    active: decide,
    async get(profile) {
      checkStorageKey(profile);
      if ((await decide()) === "file") return await file.get(profile);
      const value = await keychain.get(profile);
      if (value !== null) {
        await dropFileCopy(profile, true);
        return value;
      }
      const copy = await file.get(profile);
      if (copy === null) return null;
      try {
        await keychain.set(profile, copy);
      } catch (error) {
        // The keychain reads but will not store (say, a locked keyring): keep serving the file copy.
        if (isCliAuthError(error, "storage_unavailable")) return copy;
        throw error;
      }
      await dropFileCopy(profile, true);
      return copy;
    },
    async set(profile, value) {
      checkStorageKey(profile);
      if ((await decide()) === "file") return await storeInFile(profile, value);
      await keychain.set(profile, value);
      await dropFileCopy(profile, false);
    },
    async delete(profile) {
      checkStorageKey(profile);
      if ((await decide()) === "file") return await file.delete(profile);
      await keychain.delete(profile);
      await dropFileCopy(profile, false);
    },
  };
}
