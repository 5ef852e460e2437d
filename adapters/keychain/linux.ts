/**
 * The Linux keychain: the freedesktop Secret Service (gnome-keyring, KWallet, KeePassXC) through `secret-tool`
 * (libsecret), which works the same from Deno, Bun, Node and compiled binaries, with no native addon.
 *
 * Items carry the attributes `service` and `account` (the profile); the secret goes to `secret-tool store` on stdin,
 * never in its arguments. `secret-tool` 0.20 cuts a secret read from stdin at 8,192 bytes (printing a warning, but
 * exiting 0), so values above 8,000 bytes are split into parts (see `_chunks.ts`).
 *
 * Items are also tagged with the schema name `Bun.secrets` uses (`xdg:schema` = `com.oven-sh.bun.Secret`): Bun only
 * finds items of its schema, and a store replaces only an item with exactly the same attributes, so without the tag a
 * tool run sometimes on Bun and sometimes on Node would keep two items per profile and read either.
 *
 * @module
 */
import type { KeychainStore } from "./types.ts";
import { checkService } from "../../src/names.ts";
import type { StoreAction } from "../storage/_store_error.ts";
import { type CommandResult, type CommandRunner, DEFAULT_COMMAND_TIMEOUT_MS, runCommand } from "../subprocess.ts";
import { chunkedStore, type EntryBackend } from "./_chunks.ts";
import { type FailureReason, toolFailure } from "./_failure.ts";

/**
 * Options of {@link linuxKeychainStore}.
 *
 * @example Usage
 * ```ts
 * import type { LinuxKeychainOptions } from "./linux.ts";
 * const options: LinuxKeychainOptions = { service: "my-cli", timeoutMs: 5_000 };
 * ```
 */
export interface LinuxKeychainOptions {
  /** The `service` attribute of the items (your CLI's name). */
  service: string;
  /** Runs `secret-tool` (default: {@link runCommand}); tests pass a fake. */
  runner?: CommandRunner;
  /** Per `secret-tool` run (default 10 000 ms). */
  timeoutMs?: number;
  /** Environment for `secret-tool` on top of this process's (e.g. another `DBUS_SESSION_BUS_ADDRESS`). */
  env?: Record<string, string | undefined>;
}

/**
 * The schema name `Bun.secrets` gives its items on Linux; ours carry it too (see the module documentation).
 *
 * @example Usage
 * ```ts
 * import { BUN_SECRETS_SCHEMA } from "./linux.ts";
 * // secret-tool search xdg:schema com.oven-sh.bun.Secret service my-cli
 * const args = ["search", "xdg:schema", BUN_SECRETS_SCHEMA, "service", "my-cli"];
 * ```
 */
export const BUN_SECRETS_SCHEMA = "com.oven-sh.bun.Secret";

/**
 * The most UTF-8 bytes one item holds: `secret-tool` 0.20 keeps 8,192 bytes of a secret read from stdin; stay
 * clearly below. Larger values are split.
 *
 * @example Usage
 * ```ts
 * import { SECRET_TOOL_MAX_BYTES } from "./linux.ts";
 * const parts = Math.ceil(20_000 / SECRET_TOOL_MAX_BYTES); // 3
 * ```
 */
export const SECRET_TOOL_MAX_BYTES = 8_000;

const MISSING_HINT =
  'Install secret-tool (Debian/Ubuntu: libsecret-tools; Fedora/Arch: libsecret), or use `storage: "file"`';

/**
 * A credential store in the Secret Service, driven through `secret-tool`.
 *
 * @param options service name, and optionally runner, timeout and environment
 * @returns a store whose `probe()` stores and clears a throwaway item to prove the keyring is reachable and unlocked
 * @throws {CliAuthError} `storage_unavailable` from its methods when `secret-tool`, the D-Bus session or a Secret
 * Service is missing, the keyring is locked, or `secret-tool` times out; `storage_corrupt` when a split value lost a
 * part; `invalid_options` for a bad service or profile name
 *
 * @example Usage
 * ```ts
 * import { linuxKeychainStore } from "./linux.ts";
 * const store = linuxKeychainStore({ service: "my-cli" });
 * await store.set("default", JSON.stringify({ accessToken: "…" }));
 * console.log(await store.get("default"));
 * await store.delete("default");
 * ```
 */
export function linuxKeychainStore(options: LinuxKeychainOptions): KeychainStore {
  checkService(options.service);
  const service = options.service;
  const run = options.runner ?? runCommand;
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const env = options.env;

  const busAddress = (): string | undefined => {
    if (env && "DBUS_SESSION_BUS_ADDRESS" in env) return env.DBUS_SESSION_BUS_ADDRESS;
    const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
    return g.process?.env?.DBUS_SESSION_BUS_ADDRESS;
  };

  const classify = (result: CommandResult): FailureReason | undefined => {
    const stderr = result.stderr;
    if (/locked/i.test(stderr)) {
      return {
        reason: "the keyring is locked",
        hint: 'Unlock your login keyring (log in to the desktop session), or use `storage: "file"`',
      };
    }
    if (/autolaunch|\$DISPLAY|could not connect|failed to connect|connection refused/i.test(stderr)) {
      return {
        reason: busAddress()
          ? "cannot connect to the D-Bus session bus"
          : "there is no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)",
        hint: 'The Secret Service needs a desktop session; over SSH, in containers and in CI use `storage: "file"`',
      };
    }
    if (/org\.freedesktop\.secrets|ServiceUnknown|not provided by any|object does not exist|no such (object|interface)/i.test(stderr)) {
      return {
        reason: "no Secret Service (such as gnome-keyring) is running",
        hint: 'Start gnome-keyring-daemon, KWallet or KeePassXC\'s Secret Service, or use `storage: "file"`',
      };
    }
    return undefined;
  };

  const context = (action: StoreAction, profile: string) => ({
    tool: "secret-tool",
    action,
    profile,
    timeoutMs,
    missingHint: MISSING_HINT,
  });
  const exec = (args: string[], stdin?: string) => run("secret-tool", args, { stdin, timeoutMs, env });

  async function lookup(svc: string, account: string, profile: string, action: StoreAction): Promise<string | null> {
    const result = await exec(["lookup", "service", svc, "account", account]);
    if (result.error === undefined && result.code === 0) return result.stdout;
    // Nothing found: exit 1 and silence. Any message means the lookup itself failed.
    if (result.error === undefined && result.code === 1 && result.stderr.trim() === "") return null;
    throw toolFailure(result, context(action, profile), classify);
  }

  async function store(
    svc: string,
    account: string,
    value: string,
    label: string,
    profile: string,
    action: StoreAction = "store",
  ): Promise<void> {
    const result = await exec(
      ["store", "--label", label, "service", svc, "account", account, "xdg:schema", BUN_SECRETS_SCHEMA],
      value,
    );
    // secret-tool 0.20 exits 0 after truncating an over-long secret; never trust a store that complained.
    if (result.error === undefined && result.code === 0 && !/too long/i.test(result.stderr)) return;
    if (result.error === undefined && /too long/i.test(result.stderr)) {
      throw toolFailure({ ...result, code: result.code || 1 }, context(action, profile), () => ({
        reason: "secret-tool refused the value as too long",
      }));
    }
    throw toolFailure(result, context(action, profile), classify);
  }

  async function clear(svc: string, account: string, profile: string, action: StoreAction = "delete"): Promise<void> {
    const result = await exec(["clear", "service", svc, "account", account]);
    if (result.error === undefined && (result.code === 0 || (result.code === 1 && result.stderr.trim() === ""))) return;
    throw toolFailure(result, context(action, profile), classify);
  }

  const profileOf = (name: string) => name.replace(/:part:[0-9a-f]{16}:\d+$/, "");
  const backend: EntryBackend = {
    read: (name, action) => lookup(service, name, profileOf(name), action),
    async write(entries) {
      for (const entry of entries) {
        const label = `${service} (${entry.name})`;
        const profile = profileOf(entry.name);
        await store(service, entry.name, entry.value, label, profile);
        // An item another tool wrote for this service and account (keytar's schema, a hand-made one) is not replaced
        // by `secret-tool store`, since its attributes differ, and a lookup may keep finding it: then clear every
        // such item and store again, so that what was just written is what is read.
        if ((await lookup(service, entry.name, profile, "store")) !== entry.value) {
          await clear(service, entry.name, profile, "store");
          await store(service, entry.name, entry.value, label, profile);
        }
      }
    },
    async remove(names) {
      for (const name of names) await clear(service, name, profileOf(name));
    },
    maxBytes: () => SECRET_TOOL_MAX_BYTES,
  };

  return {
    ...chunkedStore(backend),
    kind: "keychain",
    backend: "secret-tool",
    async probe() {
      // A throwaway item under a service of its own, so it can never meet a profile. Storing proves more than a
      // lookup: a locked keyring answers lookups with "nothing found" and only fails when asked to store.
      await store("cli-auth-probe", service, "probe", `cli-auth keychain probe for ${service}`, service, "probe");
      await clear("cli-auth-probe", service, service, "probe");
    },
  };
}
