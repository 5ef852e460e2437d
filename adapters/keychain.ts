/**
 * The OS keychain as a {@link CredentialStore}, chosen when called: `/usr/bin/security` on macOS on every runtime;
 * elsewhere `Bun.secrets` on Bun, otherwise the OS's own tool (`powershell.exe` and Credential Manager on Windows,
 * `secret-tool` elsewhere). No native addon, so it works in Deno, Node and in `deno compile` / `bun build --compile`
 * binaries.
 *
 * Why not `Bun.secrets` on macOS: a keychain item's access list names the program that created it, and `Bun.secrets`
 * creates items as the running binary. A CLI built with `bun build --compile` is a new, ad-hoc-signed binary after
 * every upgrade, so macOS would ask for the keychain password on the first read after each one. Items created by
 * `/usr/bin/security` trust `/usr/bin/security`, which does not change when the CLI does. On Linux (Secret Service)
 * and Windows (Credential Manager) no such per-program access list exists, so `Bun.secrets` stays there: it needs no
 * subprocess, and on Windows no PowerShell at all.
 *
 * Entries: service `<service>`, account `<profile>` (Windows: generic credential `<service>:<profile>`, the profile
 * percent-encoded in lower case unless it is made of `a-z 0-9 - . _ ~`, because Credential Manager ignores case; see
 * `keychain/_case_safe_names.ts`); the value is stored as given. Values too large for one entry are split into parts
 * (see `keychain/_chunks.ts`). Names follow the rules of `src/names.ts`, shared with the `CliAuth` constructor.
 *
 * @module
 */
import type { CredentialStore } from "../src/contracts.ts";
import type { BunSecrets } from "./keychain/bun_secrets.ts";
import { checkService } from "../src/names.ts";
import type { CommandRunner } from "./subprocess.ts";

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
  /** A `process.platform` value to use instead of this machine's (`"darwin"`, `"linux"`, `"win32"`). */
  platform?: string;
  /** Per tool run (default 10 000 ms; 30 000 ms for PowerShell, whose start is slow). */
  timeoutMs?: number;
  /** Environment for the tools on top of this process's; giving one also turns off `Bun.secrets`. */
  env?: Record<string, string | undefined>;
  /** Use `Bun.secrets` when running on Bun, except on macOS (default `true`). */
  bunSecrets?: boolean;
}

/**
 * This machine's platform as a `process.platform` value, read when called (`Deno.build.os` on Deno).
 *
 * @returns `"darwin"`, `"linux"`, `"win32"`, …
 *
 * @example Usage
 * ```ts
 * import { currentPlatform } from "@x/cli-auth/adapters";
 * const isWindows = currentPlatform() === "win32";
 * ```
 */
export function currentPlatform(): string {
  const g = globalThis as { Deno?: { build?: { os?: string } }; process?: { platform?: string } };
  const denoOs = g.Deno?.build?.os;
  if (denoOs) return denoOs === "windows" ? "win32" : denoOs;
  return g.process?.platform ?? "linux";
}

/**
 * The OS keychain store for this machine, picked now: `security` on macOS (on every runtime, see the module
 * documentation); elsewhere `Bun.secrets` when running on Bun (unless `bunSecrets: false`, a `runner` or an `env` is
 * given), else Credential Manager on Windows, `secret-tool` on Linux and other Unixes.
 *
 * @param options service name; runner, platform, timeout and environment for tests and special setups
 * @returns the store; nothing runs until it is used
 * @throws {CliAuthError} `invalid_options` for an unusable service name; its methods throw `storage_unavailable`
 * when the keychain cannot be reached and `storage_corrupt` when a split entry lost a part
 *
 * @example Usage
 * ```ts
 * import { keychainStore } from "@x/cli-auth/adapters";
 * const store = keychainStore({ service: "my-cli" });
 * await store.set("work", JSON.stringify({ accessToken: "…" }));
 * const session = await store.get("work");
 * ```
 */
export function keychainStore(options: KeychainStoreOptions): KeychainStore {
  checkService(options.service);
  const platform = options.platform ?? currentPlatform();
  // Never Bun.secrets on macOS: its items trust the running binary, which an upgrade replaces.
  const secrets = platform === "darwin" || options.bunSecrets === false || options.runner || options.env
    ? undefined
    : getBunSecrets();
  const common = { service: options.service, runner: options.runner, timeoutMs: options.timeoutMs, env: options.env };
  const backend: KeychainBackend = secrets
    ? "bun-secrets"
    : platform === "darwin"
    ? "security"
    : platform === "win32"
    ? "credential-manager"
    : "secret-tool";
  // Only this machine's backend is loaded, on first use (literal paths, so compiled binaries include all four).
  let loaded: Promise<KeychainStore> | undefined;
  const load = () =>
    loaded ??= (async (): Promise<KeychainStore> => {
      switch (backend) {
        case "bun-secrets":
          return (await import("./keychain/bun_secrets.ts")).bunSecretsStore({ service: options.service, secrets, platform });
        case "security":
          return (await import("./keychain/macos.ts")).macosKeychainStore(common);
        case "credential-manager":
          return (await import("./keychain/windows.ts")).windowsKeychainStore(common);
        default:
          return (await import("./keychain/linux.ts")).linuxKeychainStore(common);
      }
    })();
  return {
    kind: "keychain",
    backend,
    get: async (key) => await (await load()).get(key),
    set: async (key, value) => await (await load()).set(key, value),
    delete: async (key) => await (await load()).delete(key),
    probe: async () => await (await load()).probe(),
  };
}

/**
 * `Bun.secrets` when running on a Bun that has it (1.3+), else `undefined`.
 *
 * @returns the Bun secrets API
 *
 * @example Usage
 * ```ts
 * import { getBunSecrets } from "@x/cli-auth/adapters";
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
