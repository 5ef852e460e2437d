/**
 * The macOS keychain through `/usr/bin/security`: generic passwords with service `<service>` and account
 * `<profile>`, updated in place (`-U`).
 *
 * The secret never appears in an argument list: writes run `security -i`, which reads its commands from stdin, and
 * pass the value hex-encoded with `-X` (so no quoting of the value is needed). Reads run
 * `find-generic-password -g`, which prints the password on stderr either as `password: "text"` (only printable ASCII
 * without `\`) or as `password: 0x<HEX>  "<escaped>"` (anything else); both forms are decoded exactly. `-w` is not
 * used: it prints the same two forms without saying which one it chose, so a password that looks like hex is
 * ambiguous.
 *
 * `security -i` reads lines of at most 4,095 bytes; with the value hex-encoded, a line holds about 1,900 bytes of
 * it, and larger values are split into parts (see `_chunks.ts`).
 *
 * @module
 */
import type { KeychainStore } from "./types.ts";
import { CliAuthError } from "../../src/common/errors.ts";
import { checkService } from "../../src/names.ts";
import type { StoreAction } from "../storage/_store_error.ts";
import { type CommandResult, type CommandRunner, DEFAULT_COMMAND_TIMEOUT_MS, runCommand } from "../subprocess.ts";
import { chunkedStore, type EntryBackend, partName } from "./_chunks.ts";
import { type FailureReason, toolFailure } from "./_failure.ts";

/**
 * Options of {@link macosKeychainStore}.
 *
 * @example Usage
 * ```ts
 * import type { MacosKeychainOptions } from "./macos.ts";
 * const options: MacosKeychainOptions = { service: "my-cli", timeoutMs: 5_000 };
 * ```
 */
export interface MacosKeychainOptions {
  /** The service of the generic password items (your CLI's name). */
  service: string;
  /** Runs `security` (default: {@link runCommand}); tests pass a fake. */
  runner?: CommandRunner;
  /** Per `security` run (default 10 000 ms). */
  timeoutMs?: number;
  /** Environment for `security` on top of this process's. */
  env?: Record<string, string | undefined>;
}

/**
 * The tool, by absolute path so that nothing on `PATH` can stand in for it.
 *
 * @example Usage
 * ```ts
 * import { SECURITY_PATH } from "./macos.ts";
 * console.assert(SECURITY_PATH === "/usr/bin/security");
 * ```
 */
export const SECURITY_PATH = "/usr/bin/security";

/**
 * The longest command line sent to `security -i` (it reads at most 4,095 bytes per line, and runs the rest of a
 * longer line as the next command).
 *
 * @example Usage
 * ```ts
 * import { SECURITY_MAX_LINE } from "./macos.ts";
 * const fits = (line: string) => new TextEncoder().encode(line).length <= SECURITY_MAX_LINE;
 * ```
 */
export const SECURITY_MAX_LINE = 4_000;

/** `security` exits with the low byte of the OSStatus: errSecItemNotFound (-25300) is 44. */
const EXIT_NOT_FOUND = 44;

const MISSING_HINT = 'The macOS `security` tool should be at /usr/bin/security; or use `storage: "file"`';

/**
 * Quotes an argument for `security -i`'s line splitter: double quotes, `\` escaping `"` and `\`.
 *
 * @param value a service or account name (never a secret: those go hex-encoded)
 * @returns the quoted argument
 *
 * @example Usage
 * ```ts
 * import { quoteSecurityArgument } from "./macos.ts";
 * console.assert(quoteSecurityArgument('my "cli"') === '"my \\"cli\\""');
 * ```
 */
export function quoteSecurityArgument(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function toHex(value: string): string {
  return Array.from(encoder.encode(value), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Extracts the password from the stderr of `security find-generic-password -g`.
 *
 * @param stderr what `security` printed on stderr
 * @returns the password; `undefined` when there is no `password:` line or its bytes are not UTF-8
 *
 * @example Usage
 * ```ts
 * import { parseSecurityPassword } from "./macos.ts";
 * console.assert(parseSecurityPassword('password: "plain"\n') === "plain");
 * console.assert(parseSecurityPassword("password: 0xC3A9  \"\\303\\251\"\n") === "é");
 * ```
 */
export function parseSecurityPassword(stderr: string): string | undefined {
  const line = stderr.split("\n").find((l) => l.startsWith("password: "));
  if (line === undefined) return undefined;
  const rest = line.slice("password: ".length);
  const hex = /^0x([0-9A-Fa-f]*)/.exec(rest);
  if (hex) {
    const digits = hex[1]!;
    if (digits.length % 2 !== 0) return undefined;
    const bytes = new Uint8Array(digits.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
    try {
      return decoder.decode(bytes);
    } catch {
      return undefined;
    }
  }
  if (rest.trim() === "") return "";
  const first = rest.indexOf('"');
  const last = rest.lastIndexOf('"');
  if (first !== 0 || last <= first) return undefined;
  return rest.slice(first + 1, last);
}

/**
 * A credential store in the macOS keychain (the user's default keychain), driven through `/usr/bin/security`.
 *
 * @param options service name, and optionally runner, timeout and environment
 * @returns a store whose `probe()` adds and deletes a throwaway item to prove the keychain is unlocked and writable
 * @throws {CliAuthError} `storage_unavailable` from its methods when `security` fails (locked keychain without a way
 * to prompt, no default keychain, timeout); `storage_corrupt` when a split value lost a part; `invalid_options` for
 * a bad service or profile name
 *
 * @example Usage
 * ```ts
 * import { macosKeychainStore } from "./macos.ts";
 * const store = macosKeychainStore({ service: "my-cli" });
 * await store.set("default", JSON.stringify({ accessToken: "…" }));
 * console.log(await store.get("default"));
 * ```
 */
export function macosKeychainStore(options: MacosKeychainOptions): KeychainStore {
  checkService(options.service);
  const service = options.service;
  const run = options.runner ?? runCommand;
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const env = options.env;

  const classify = (result: CommandResult): FailureReason | undefined => {
    if (result.code === 36 || /interaction is not allowed/i.test(result.stderr)) {
      return {
        reason: "the keychain is locked and cannot ask to be unlocked here",
        hint: 'Unlock it with `security unlock-keychain`, or use `storage: "file"`',
      };
    }
    if (result.code === 37 || /default keychain could not be found/i.test(result.stderr)) {
      return { reason: "there is no default keychain", hint: 'Create one in Keychain Access, or use `storage: "file"`' };
    }
    if (result.code === 51 || /authorization|not authorized|user canceled/i.test(result.stderr)) {
      return { reason: "access to the keychain item was refused", hint: "Allow access when macOS asks, then try again" };
    }
    return undefined;
  };
  const context = (action: StoreAction, profile: string) => ({
    tool: "security",
    action,
    profile,
    timeoutMs,
    missingHint: MISSING_HINT,
  });
  const profileOf = (name: string) => name.replace(/:part:[0-9a-f]{16}:\d+$/, "");

  const addLine = (svc: string, account: string, value: string) =>
    `add-generic-password -U -s ${quoteSecurityArgument(svc)} -a ${quoteSecurityArgument(account)} -X ${toHex(value)}`;

  async function find(svc: string, account: string, profile: string, action: StoreAction): Promise<string | null> {
    const result = await run(SECURITY_PATH, ["find-generic-password", "-g", "-s", svc, "-a", account], {
      timeoutMs,
      env,
    });
    if (result.error === undefined && result.code === EXIT_NOT_FOUND) return null;
    if (result.error !== undefined || result.code !== 0) throw toolFailure(result, context(action, profile), classify);
    const value = parseSecurityPassword(result.stderr);
    if (value === undefined) {
      throw toolFailure({ ...result, code: 0 }, context(action, profile), () => ({
        reason: "security printed no password it could decode",
      }));
    }
    return value;
  }

  async function add(svc: string, entries: readonly { name: string; value: string }[], action: StoreAction) {
    const lines = entries.map((entry) => addLine(svc, entry.name, entry.value));
    const profile = profileOf(entries[0]!.name);
    for (const line of lines) {
      if (line.length > SECURITY_MAX_LINE) {
        throw new CliAuthError("invalid_options", "The service or profile name is too long for the macOS keychain");
      }
    }
    const result = await run(SECURITY_PATH, ["-i"], { stdin: lines.join("\n") + "\n", timeoutMs, env });
    // `security -i` exits with the status of the last command only; earlier failures print "<cmd>: returned <n>".
    if (result.error === undefined && result.code === 0 && !/: returned -?\d+/.test(result.stderr)) return;
    throw toolFailure(result.code === 0 ? { ...result, code: 1 } : result, context(action, profile), classify);
  }

  async function remove(svc: string, account: string, profile: string, action: StoreAction) {
    const result = await run(SECURITY_PATH, ["delete-generic-password", "-s", svc, "-a", account], { timeoutMs, env });
    if (result.error === undefined && (result.code === 0 || result.code === EXIT_NOT_FOUND)) return;
    throw toolFailure(result, context(action, profile), classify);
  }

  const backend: EntryBackend = {
    read: (name, action) => find(service, name, profileOf(name), action),
    write: (entries) => add(service, entries, "store"),
    async remove(names) {
      for (const name of names) await remove(service, name, profileOf(name), "delete");
    },
    maxBytes(profile) {
      const longest = addLine(service, partName(profile, "0".repeat(16), 999_999), "");
      const bytes = Math.floor((SECURITY_MAX_LINE - longest.length) / 2);
      if (bytes < 256) {
        throw new CliAuthError("invalid_options", "The service or profile name is too long for the macOS keychain");
      }
      return bytes;
    },
  };

  return {
    ...chunkedStore(backend),
    kind: "keychain",
    backend: "security",
    async probe() {
      await add("cli-auth-probe", [{ name: service, value: "probe" }], "probe");
      await remove("cli-auth-probe", service, service, "probe");
    },
  };
}
