/**
 * The types of the keychain stores: what `keychainStore()` returns and takes. Every backend (`macos.ts`, `linux.ts`,
 * `windows.ts`, `bun_secrets.ts`) imports them from here, never from `mod.ts`, which imports the backends.
 *
 * @module
 */
import type { CredentialStore } from "../../src/contracts.ts";
import type { CommandRunner } from "../subprocess.ts";

/**
 * Which mechanism a keychain store uses.
 *
 * @example Usage
 * ```ts
 * import { keychainStore, type KeychainBackend } from "@x/cli-auth/adapters";
 * const backend: KeychainBackend = keychainStore({ service: "my-cli" }).backend;
 * console.log(backend); // "secret-tool" on Linux under Node
 * ```
 */
export type KeychainBackend = "security" | "secret-tool" | "credential-manager" | "bun-secrets";

/**
 * A {@link CredentialStore} in the OS keychain, which can also say whether it can be used right now.
 *
 * @example Usage
 * ```ts
 * import { keychainStore, type KeychainStore } from "@x/cli-auth/adapters";
 * const store: KeychainStore = keychainStore({ service: "my-cli" });
 * try {
 *   await store.probe();
 * } catch (error) {
 *   console.error(`No keychain here: ${(error as Error).message}`);
 * }
 * ```
 */
export interface KeychainStore extends CredentialStore {
  /** Always `"keychain"`. */
  readonly kind: "keychain";
  /** The mechanism in use. */
  readonly backend: KeychainBackend;
  /**
   * Resolves when the keychain can be used now; rejects with `storage_unavailable` (and the reason) when not. On
   * macOS, Linux and Bun it writes and removes a throwaway entry (a locked keyring only fails on writes); on Windows
   * it reads one, since Credential Manager is either there for the logon session or not at all.
   */
  probe(): Promise<void>;
}

/**
 * Options of {@link keychainStore}.
 *
 * @example Usage
 * ```ts
 * import type { KeychainStoreOptions } from "@x/cli-auth/adapters";
 * const options: KeychainStoreOptions = { service: "my-cli", timeoutMs: 15_000 };
 * ```
 */
export interface KeychainStoreOptions {
  /** Names the keychain entries (your CLI's name). */
  service: string;
  /** Runs the OS tools (default: `runCommand`); giving one also turns off `Bun.secrets`. */
  runner?: CommandRunner;
  /**
   * The OS to choose the backend for instead of this machine's: `"darwin"`, `"linux"`, `"windows"` (or any
   * `process.platform` value, such as `"win32"`).
   */
  platform?: string;
  /** Per tool run (default 10 000 ms; 30 000 ms for PowerShell, whose start is slow). */
  timeoutMs?: number;
  /** Environment for the tools on top of this process's; giving one also turns off `Bun.secrets`. */
  env?: Record<string, string | undefined>;
  /** Use `Bun.secrets` when running on Bun, except on macOS (default `true`). */
  bunSecrets?: boolean;
}
