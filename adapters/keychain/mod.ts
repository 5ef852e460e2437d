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
 * `_case_safe_names.ts`); the value is stored as given. Values too large for one entry are split into parts
 * (see `_chunks.ts`). Names follow the rules of `src/names.ts`, shared with the `CliAuth` constructor.
 *
 * @module
 */
import { checkService } from "../../src/names.ts";
import { currentOs, osName } from "../os.ts";
import { getBunSecrets } from "./_bun_api.ts";
import type { KeychainBackend, KeychainStore, KeychainStoreOptions } from "./types.ts";

export type { KeychainBackend, KeychainStore, KeychainStoreOptions };

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
  const os = options.platform === undefined ? currentOs() : osName(options.platform);
  // Never Bun.secrets on macOS: its items trust the running binary, which an upgrade replaces.
  const secrets = os === "darwin" || options.bunSecrets === false || options.runner || options.env
    ? undefined
    : getBunSecrets();
  const common = { service: options.service, runner: options.runner, timeoutMs: options.timeoutMs, env: options.env };
  const backend: KeychainBackend = secrets
    ? "bun-secrets"
    : os === "darwin"
    ? "security"
    : os === "windows"
    ? "credential-manager"
    : "secret-tool";
  // Only this machine's backend is loaded, on first use (literal paths, so compiled binaries include all four).
  let loaded: Promise<KeychainStore> | undefined;
  const load = () =>
    loaded ??= (async (): Promise<KeychainStore> => {
      switch (backend) {
        case "bun-secrets":
          return (await import("./bun_secrets.ts")).bunSecretsStore({ service: options.service, secrets, platform: os });
        case "security":
          return (await import("./macos.ts")).macosKeychainStore(common);
        case "credential-manager":
          return (await import("./windows.ts")).windowsKeychainStore(common);
        default:
          return (await import("./linux.ts")).linuxKeychainStore(common);
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
