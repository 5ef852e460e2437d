/**
 * Windows Credential Manager through Windows PowerShell 5.1 (present on every Windows 10/11 and Server): a script
 * calls `CredReadW`, `CredWriteW`, `CredDeleteW` and `CredEnumerateW` from advapi32 through P/Invoke (`Add-Type`).
 * No native addon, so it works the same from Deno, Node and compiled binaries.
 *
 * ## Names
 *
 * - Entries are generic credentials (`CRED_TYPE_GENERIC`) named `<service>:<name>`, where `<name>` is the profile
 *   (or registered client key) in the case-safe form of `_case_safe_names.ts` (`default` → `my-cli:default`, `Prod` →
 *   `my-cli:%50rod`): Credential Manager compares names without regard to case, and this way `Prod` and `prod` stay
 *   two profiles. The user name is the profile as given. Credentials are persisted for the local machine
 *   (`CRED_PERSIST_LOCAL_MACHINE`: they do not roam); the blob is the UTF-8 of the value.
 * - A blob holds at most 2,560 bytes (`CRED_MAX_CREDENTIAL_BLOB_SIZE`). Larger values are split into parts named
 *   `<service>:<name>:part:<id>:<n>` with a manifest in `<service>:<name>` (see `_chunks.ts`). `<name>` never holds
 *   a `:` and `<service>` may not, so the prefix `<service>:<name>:part:` is another profile's prefix for no profile:
 *   writing `work` never touches `work:part:ci` (named `my-cli:work%3apart%3aci`).
 * - Every entry a store reads or removes must carry the profile as its user name: a credential of the same name
 *   (ignoring case) written for another profile is not this one's.
 * - Earlier versions named entries `<service>:<profile>` raw. For profiles whose case-safe form is the same (lower-case
 *   letters, digits, `-._~`: `default`, `work`) nothing changed. For the others (`Work`, `me@corp`, registered
 *   clients) a read also looks at the raw name, and takes that entry when its user name is exactly the profile; the
 *   next write moves it to the new name, and a delete removes both.
 * - One PowerShell run does a whole operation: a read returns the entry and every part under its prefix
 *   (`CredEnumerateW`), a write writes the parts, then the manifest, then deletes the parts of earlier values (and any
 *   raw-named entry), a delete removes all of them.
 *
 * ## One constant program, the data after it
 *
 * Windows PowerShell logs the full text of every script block with "suspicious" content (`Add-Type`, `DllImport`,
 * `Marshal`, …) as event 4104 in its Operational log, with no policy needed, and sites with script block logging
 * turned on log every block. So the text PowerShell compiles must never hold a secret, nor anything that varies from
 * call to call. It is {@link POWERSHELL_SCRIPT}, one constant line, the same for every call; a test checks it is
 * byte-identical across secrets, names and operations.
 *
 * PowerShell runs as `powershell.exe -NoProfile -NonInteractive -Command -` and gets two lines on stdin:
 * 1. the program. With `-Command -` the console host reads stdin one line at a time, runs each line as a command
 *    once it is a complete statement, and (like the interactive prompt) would wait at a multi-line block; so the
 *    program is a single line, C# included. Nothing in argv varies, and nothing in it is encoded:
 *    `-EncodedCommand` would also be constant, but it is a long base64 argument of the kind malware scanners flag,
 *    and quoting a program into `-Command "…"` breaks on PowerShell 5.1's own re-parsing of its command line.
 * 2. the data: `#` and one JSON line ({@link CredentialRequest}: the operations, target names, values as hex). The
 *    program's first statement reads it with `[Console]::In.ReadLine()`, from the same `Console.In` the host reads its
 *    commands from, so the line is taken before the host looks for another command. It is never compiled: it is
 *    data to `ConvertFrom-Json`. It is ASCII only (JSON `\u` escapes), because PowerShell decodes stdin in the
 *    console's OEM code page; values are hex, whose letters (`a`–`f`) cannot spell any word PowerShell's scan looks
 *    for.
 *
 * The program ends with `exit` on every path (errors included), so the host never reads a further line as a
 * command; should the program not even parse, the data line starts with `#` and is a comment. If reading the data
 * line were to fail on some host, every call (the probe first, which carries no secret) fails, and `storage: "auto"`
 * uses the file instead.
 *
 * The program answers with one line, `CLIAUTH:` and a JSON {@link CredentialResult} (written by the C# part, ASCII).
 * Win32 error codes are mapped here. PowerShell's own error text is never copied into errors.
 *
 * Starting PowerShell and compiling the P/Invoke type takes about a second, hence a 30 s default timeout.
 *
 * @module
 */
import type { KeychainStore } from "./types.ts";
import { checkService, checkStorageKey } from "../../src/names.ts";
import { type StoreAction, storeError } from "../storage/_store_error.ts";
import { type CommandResult, type CommandRunner, runCommand } from "../subprocess.ts";
import { isManifest, joinParts, parseManifest, planWrite } from "./_chunks.ts";
import { caseSafeName, hasRawName } from "./_case_safe_names.ts";
import { toolFailure } from "./_failure.ts";

/**
 * Options of {@link windowsKeychainStore}.
 *
 * @example Usage
 * ```ts
 * import type { WindowsKeychainOptions } from "./windows.ts";
 * const options: WindowsKeychainOptions = { service: "my-cli", timeoutMs: 60_000 };
 * ```
 */
export interface WindowsKeychainOptions {
  /** Names the credentials `<service>:<profile>` (your CLI's name; see the module documentation). */
  service: string;
  /** Runs PowerShell (default: {@link runCommand}); tests pass a fake. */
  runner?: CommandRunner;
  /** Per PowerShell run (default 30 000 ms). */
  timeoutMs?: number;
  /** Environment for PowerShell on top of this process's. */
  env?: Record<string, string | undefined>;
}

/**
 * `CRED_MAX_CREDENTIAL_BLOB_SIZE`: the most bytes one generic credential holds. Larger values are split.
 *
 * @example Usage
 * ```ts
 * import { CREDENTIAL_BLOB_MAX_BYTES } from "./windows.ts";
 * const parts = Math.ceil(7_000 / CREDENTIAL_BLOB_MAX_BYTES); // 3
 * ```
 */
export const CREDENTIAL_BLOB_MAX_BYTES = 2_560;

/**
 * The default timeout of a PowerShell run (its start and the `Add-Type` compile take about a second).
 *
 * @example Usage
 * ```ts
 * import { POWERSHELL_TIMEOUT_MS, windowsKeychainStore } from "./windows.ts";
 * const store = windowsKeychainStore({ service: "my-cli", timeoutMs: 2 * POWERSHELL_TIMEOUT_MS });
 * ```
 */
export const POWERSHELL_TIMEOUT_MS = 30_000;

/**
 * The arguments PowerShell is started with; the program and its data come on stdin.
 *
 * @example Usage
 * ```ts
 * import { POWERSHELL_ARGS } from "./windows.ts";
 * console.assert(POWERSHELL_ARGS.join(" ") === "-NoProfile -NonInteractive -Command -");
 * ```
 */
export const POWERSHELL_ARGS: readonly string[] = ["-NoProfile", "-NonInteractive", "-Command", "-"];

/**
 * What the script prints before its JSON result.
 *
 * @example Usage
 * ```ts
 * import { RESULT_MARKER } from "./windows.ts";
 * const line = `${RESULT_MARKER}{"ok":true,"results":[]}`;
 * ```
 */
export const RESULT_MARKER = "CLIAUTH:";

/**
 * One step of a {@link CredentialRequest}; the program runs them in order and stops at the first failure.
 * `data` is the blob in lowercase hex. A `user` on `delete` and `prune` limits them to credentials whose user name
 * is exactly that (Credential Manager's names ignore case; user names are kept as written).
 *
 * - `read`: the credential `target`, or `null`.
 * - `list`: every generic credential whose name starts with `prefix` (ignoring case), with its blob.
 * - `write`: creates or replaces `target`.
 * - `delete`: removes `target` if it exists.
 * - `prune`: removes every credential under `prefix` except those named in `keep` (ignoring case).
 *
 * @example Usage
 * ```ts
 * import type { CredentialOperation } from "./windows.ts";
 * const steps: CredentialOperation[] = [{ op: "read", target: "my-cli:default" }, { op: "list", prefix: "my-cli:default:part:" }];
 * ```
 */
export type CredentialOperation =
  | { op: "read"; target: string }
  | { op: "list"; prefix: string }
  | { op: "write"; target: string; user: string; data: string }
  | { op: "delete"; target: string; user?: string }
  | { op: "prune"; prefix: string; keep: string[]; user?: string };

/**
 * The data line's JSON: the operations of one PowerShell run.
 *
 * @example Usage
 * ```ts
 * import type { CredentialRequest } from "./windows.ts";
 * const request: CredentialRequest = { ops: [{ op: "delete", target: "my-cli:work" }] };
 * ```
 */
export interface CredentialRequest {
  /** The steps, run in order. */
  ops: CredentialOperation[];
}

/**
 * A credential as the program reports it: its name as stored, its user name, its blob in lowercase hex.
 *
 * @example Usage
 * ```ts
 * import type { CredentialEntry } from "./windows.ts";
 * const entry: CredentialEntry = { target: "my-cli:default", user: "default", data: "7b7d" }; // "{}"
 * ```
 */
export interface CredentialEntry {
  /** The target name as Credential Manager stores it. */
  target: string;
  /** The user name, `null` when it has none. */
  user: string | null;
  /** The blob, lowercase hex. */
  data: string;
}

/**
 * What the program answers: one result per operation (`read`: an entry or `null`; `list`: entries; others `null`),
 * or the Win32 error code of the step that failed (0 when the failure was not a Win32 error).
 *
 * @example Usage
 * ```ts
 * import type { CredentialResult } from "./windows.ts";
 * const missing: CredentialResult = { ok: true, results: [null, []] };
 * const noSession: CredentialResult = { ok: false, code: 1312 };
 * ```
 */
export interface CredentialResult {
  /** Whether every operation succeeded. */
  ok: boolean;
  /** One result per operation, when `ok`. */
  results?: (CredentialEntry | CredentialEntry[] | null)[];
  /** The Win32 error code when `ok` is false. */
  code?: number;
}

// The C# half, one line (see the module documentation). It holds no `'`: it sits in a single-quoted PowerShell string.
const CSHARP = [
  "using System;",
  "using System.Collections.Generic;",
  "using System.ComponentModel;",
  "using System.Runtime.InteropServices;",
  "using System.Text;",
  "public static class CliAuthCredentials {",
  "[StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]",
  "private struct CREDENTIAL {",
  "public uint Flags; public uint Type; public string TargetName; public string Comment;",
  "public System.Runtime.InteropServices.ComTypes.FILETIME LastWritten;",
  "public uint CredentialBlobSize; public IntPtr CredentialBlob; public uint Persist;",
  "public uint AttributeCount; public IntPtr Attributes; public string TargetAlias; public string UserName;",
  "}",
  '[DllImport("advapi32.dll", EntryPoint = "CredReadW", CharSet = CharSet.Unicode, SetLastError = true)]',
  "private static extern bool CredRead(string target, uint type, uint flags, out IntPtr credential);",
  '[DllImport("advapi32.dll", EntryPoint = "CredWriteW", CharSet = CharSet.Unicode, SetLastError = true)]',
  "private static extern bool CredWrite(ref CREDENTIAL credential, uint flags);",
  '[DllImport("advapi32.dll", EntryPoint = "CredDeleteW", CharSet = CharSet.Unicode, SetLastError = true)]',
  "private static extern bool CredDelete(string target, uint type, uint flags);",
  '[DllImport("advapi32.dll", EntryPoint = "CredEnumerateW", CharSet = CharSet.Unicode, SetLastError = true)]',
  "private static extern bool CredEnumerate(string filter, uint flags, out uint count, out IntPtr credentials);",
  '[DllImport("advapi32.dll")]',
  "private static extern void CredFree(IntPtr buffer);",
  "private const uint CRED_TYPE_GENERIC = 1;",
  "private const uint CRED_PERSIST_LOCAL_MACHINE = 2;",
  "private const int ERROR_NOT_FOUND = 1168;",
  "public static string Run(string op, string target, string user, string data, string prefix, string[] keep) {",
  'if (op == "read") return ReadEntry(target);',
  'if (op == "list") return ListEntries(prefix);',
  'if (op == "write") { Write(target, user, data); return "null"; }',
  'if (op == "delete") { Delete(target, user); return "null"; }',
  'if (op == "prune") { Prune(prefix, user, keep); return "null"; }',
  'throw new ArgumentException("unknown operation");',
  "}",
  "private static string ReadEntry(string target) {",
  "IntPtr pointer;",
  "if (!CredRead(target, CRED_TYPE_GENERIC, 0, out pointer)) {",
  "int error = Marshal.GetLastWin32Error();",
  'if (error == ERROR_NOT_FOUND) return "null";',
  "throw new Win32Exception(error);",
  "}",
  "try { return Entry(pointer); } finally { CredFree(pointer); }",
  "}",
  "private static string Entry(IntPtr pointer) {",
  "CREDENTIAL credential = (CREDENTIAL)Marshal.PtrToStructure(pointer, typeof(CREDENTIAL));",
  "byte[] blob = new byte[credential.CredentialBlobSize];",
  "if (blob.Length > 0) Marshal.Copy(credential.CredentialBlob, blob, 0, blob.Length);",
  'return "{\\"target\\":" + Json(credential.TargetName) + ",\\"user\\":" + Json(credential.UserName) + ",\\"data\\":\\"" + Hex(blob) + "\\"}";',
  "}",
  "private static List<IntPtr> Enumerate(string prefix, out IntPtr list) {",
  "uint count;",
  "List<IntPtr> found = new List<IntPtr>();",
  'if (!CredEnumerate(prefix + "*", 0, out count, out list)) {',
  "int error = Marshal.GetLastWin32Error();",
  "list = IntPtr.Zero;",
  "if (error == ERROR_NOT_FOUND) return found;",
  "throw new Win32Exception(error);",
  "}",
  "for (int i = 0; i < count; i++) {",
  "IntPtr item = Marshal.ReadIntPtr(list, i * IntPtr.Size);",
  "CREDENTIAL credential = (CREDENTIAL)Marshal.PtrToStructure(item, typeof(CREDENTIAL));",
  "if (credential.Type == CRED_TYPE_GENERIC && credential.TargetName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) found.Add(item);",
  "}",
  "return found;",
  "}",
  "private static string ListEntries(string prefix) {",
  "IntPtr list;",
  "List<IntPtr> found = Enumerate(prefix, out list);",
  "try {",
  "List<string> entries = new List<string>();",
  "foreach (IntPtr item in found) entries.Add(Entry(item));",
  'return "[" + String.Join(",", entries.ToArray()) + "]";',
  "} finally { if (list != IntPtr.Zero) CredFree(list); }",
  "}",
  "private static void Prune(string prefix, string user, string[] keep) {",
  "IntPtr list;",
  "List<IntPtr> found = Enumerate(prefix, out list);",
  "List<string> names = new List<string>();",
  "try {",
  "foreach (IntPtr item in found) {",
  "CREDENTIAL credential = (CREDENTIAL)Marshal.PtrToStructure(item, typeof(CREDENTIAL));",
  "bool kept = false;",
  "foreach (string name in keep) if (name != null && String.Equals(name, credential.TargetName, StringComparison.OrdinalIgnoreCase)) kept = true;",
  "if (!kept && (String.IsNullOrEmpty(user) || String.Equals(user, credential.UserName, StringComparison.Ordinal))) names.Add(credential.TargetName);",
  "}",
  "} finally { if (list != IntPtr.Zero) CredFree(list); }",
  'foreach (string name in names) Delete(name, "");',
  "}",
  "private static void Write(string target, string user, string data) {",
  "byte[] blob = new byte[data.Length / 2];",
  "for (int i = 0; i < blob.Length; i++) blob[i] = Convert.ToByte(data.Substring(2 * i, 2), 16);",
  "CREDENTIAL credential = new CREDENTIAL();",
  "credential.Type = CRED_TYPE_GENERIC;",
  "credential.TargetName = target;",
  "credential.UserName = user;",
  "credential.Persist = CRED_PERSIST_LOCAL_MACHINE;",
  "credential.CredentialBlobSize = (uint)blob.Length;",
  "credential.CredentialBlob = Marshal.AllocHGlobal(Math.Max(blob.Length, 1));",
  "try {",
  "Marshal.Copy(blob, 0, credential.CredentialBlob, blob.Length);",
  "if (!CredWrite(ref credential, 0)) throw new Win32Exception(Marshal.GetLastWin32Error());",
  "} finally {",
  "Marshal.Copy(new byte[blob.Length], 0, credential.CredentialBlob, blob.Length);",
  "Marshal.FreeHGlobal(credential.CredentialBlob);",
  "Array.Clear(blob, 0, blob.Length);",
  "}",
  "}",
  "private static void Delete(string target, string user) {",
  "if (!String.IsNullOrEmpty(user)) {",
  "IntPtr pointer;",
  "if (!CredRead(target, CRED_TYPE_GENERIC, 0, out pointer)) {",
  "int error = Marshal.GetLastWin32Error();",
  "if (error == ERROR_NOT_FOUND) return;",
  "throw new Win32Exception(error);",
  "}",
  "string owner;",
  "try { owner = ((CREDENTIAL)Marshal.PtrToStructure(pointer, typeof(CREDENTIAL))).UserName; } finally { CredFree(pointer); }",
  "if (!String.Equals(user, owner, StringComparison.Ordinal)) return;",
  "}",
  "if (!CredDelete(target, CRED_TYPE_GENERIC, 0)) {",
  "int error = Marshal.GetLastWin32Error();",
  "if (error != ERROR_NOT_FOUND) throw new Win32Exception(error);",
  "}",
  "}",
  "private static string Hex(byte[] bytes) {",
  "StringBuilder text = new StringBuilder(bytes.Length * 2);",
  'foreach (byte b in bytes) text.Append(b.ToString("x2"));',
  "return text.ToString();",
  "}",
  "private static string Json(string value) {",
  'if (value == null) return "null";',
  'StringBuilder text = new StringBuilder("\\"");',
  'foreach (char c in value) { if (c < 32 || c > 126 || c == 34 || c == 92) text.Append("\\\\u").Append(((int)c).ToString("x4")); else text.Append(c); }',
  'return text.Append("\\"").ToString();',
  "}",
  "}",
].join(" ");

/**
 * The whole PowerShell program: one line, the same for every call, holding no secret and no name. It reads the
 * data line (`#` and a {@link CredentialRequest}) from stdin, runs the operations, prints `CLIAUTH:` and a
 * {@link CredentialResult}, and exits.
 *
 * @example Usage
 * ```ts
 * import { POWERSHELL_SCRIPT } from "./windows.ts";
 * console.assert(!POWERSHELL_SCRIPT.includes("\n") && POWERSHELL_SCRIPT.endsWith("; exit"));
 * ```
 */
export const POWERSHELL_SCRIPT: string = [
  "$ErrorActionPreference = 'Stop';",
  `$answer = '{"ok":false,"code":0}';`,
  "try {",
  "$line = [Console]::In.ReadLine();",
  "if ($null -eq $line -or -not $line.StartsWith('#')) { throw 'no request' };",
  `Add-Type -TypeDefinition '${CSHARP}';`,
  "$request = ConvertFrom-Json $line.Substring(1);",
  "$results = @();",
  "foreach ($op in $request.ops) {",
  "$results += [CliAuthCredentials]::Run([string]$op.op, [string]$op.target, [string]$op.user, [string]$op.data, [string]$op.prefix, [string[]]@($op.keep))",
  "};",
  `$answer = '{"ok":true,"results":[' + ($results -join ',') + ']}'`,
  "} catch {",
  "try {",
  "$exception = $_.Exception;",
  "while ($null -ne $exception.InnerException -and -not ($exception -is [System.ComponentModel.Win32Exception])) { $exception = $exception.InnerException };",
  `if ($exception -is [System.ComponentModel.Win32Exception]) { $answer = '{"ok":false,"code":' + $exception.NativeErrorCode + '}' }`,
  "} catch { }",
  "};",
  `try { [Console]::Out.WriteLine('${RESULT_MARKER}' + $answer) } catch { };`,
  "exit",
].join(" ");

/** JSON with every character outside printable ASCII written as a `\u` escape. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function toHex(text: string): string {
  return Array.from(encoder.encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(data: string): string | undefined {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(data)) return undefined;
  const bytes = new Uint8Array(data.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(data.slice(2 * i, 2 * i + 2), 16);
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The stdin text for `request`: {@link POWERSHELL_SCRIPT} on the first line, `#` and the request's JSON (ASCII) on
 * the second.
 *
 * @param request the operations
 * @returns what to write to `powershell.exe -Command -`
 *
 * @example Usage
 * ```ts
 * import { POWERSHELL_SCRIPT, powershellInput } from "./windows.ts";
 * const stdin = powershellInput({ ops: [{ op: "delete", target: "my-cli:work" }] });
 * console.assert(stdin === `${POWERSHELL_SCRIPT}\n#{"ops":[{"op":"delete","target":"my-cli:work"}]}\n`);
 * ```
 */
export function powershellInput(request: CredentialRequest): string {
  return `${POWERSHELL_SCRIPT}\n#${asciiJson(request)}\n`;
}

/**
 * Parses the script's answer from PowerShell's stdout.
 *
 * @param stdout everything PowerShell printed
 * @returns the result of the last `CLIAUTH:` line; `undefined` when there is none or it does not parse
 *
 * @example Usage
 * ```ts
 * import { parsePowershellResult } from "./windows.ts";
 * console.assert(parsePowershellResult('CLIAUTH:{"ok":true,"results":[]}\r\n')?.ok === true);
 * ```
 */
export function parsePowershellResult(stdout: string): CredentialResult | undefined {
  const line = stdout.split(/\r?\n/).reverse().find((l) => l.startsWith(RESULT_MARKER));
  if (line === undefined) return undefined;
  try {
    const result = JSON.parse(line.slice(RESULT_MARKER.length)) as CredentialResult;
    if (typeof result !== "object" || result === null || typeof result.ok !== "boolean") return undefined;
    if (result.ok && !Array.isArray(result.results)) return undefined;
    return result;
  } catch {
    return undefined;
  }
}

const MISSING_HINT = 'Windows PowerShell (powershell.exe) is needed for Credential Manager; or use `storage: "file"`';

function win32Reason(code: number | undefined): { reason: string; hint?: string } {
  switch (code) {
    case 1312:
      return {
        reason: "Credential Manager is not available in this logon session (as over SSH with key authentication)",
        hint: 'Sign in interactively, or use `storage: "file"`',
      };
    case 5:
      return { reason: "Credential Manager refused access (Win32 error 5)" };
    case 0:
    case undefined:
      return {
        reason: "PowerShell could not run the Credential Manager script",
        hint: 'PowerShell may be restricted (Constrained Language mode); use `storage: "file"`',
      };
    default:
      return { reason: `Credential Manager failed (Win32 error ${code})` };
  }
}

/**
 * A credential store in Windows Credential Manager, driven through `powershell.exe`.
 *
 * @param options service name, and optionally runner, timeout and environment
 * @returns a store whose `probe()` reads a throwaway credential to prove Credential Manager is there
 * @throws {CliAuthError} `storage_unavailable` from its methods when PowerShell is missing or restricted, there is
 * no logon session for Credential Manager, or the run times out; `storage_corrupt` when an entry is not UTF-8 or a
 * split value lost a part; `invalid_options` for a bad service or profile name
 *
 * @example Usage
 * ```ts
 * import { windowsKeychainStore } from "./windows.ts";
 * const store = windowsKeychainStore({ service: "my-cli" });
 * await store.set("default", JSON.stringify({ accessToken: "…" }));
 * console.log(await store.get("default"));
 * ```
 */
export function windowsKeychainStore(options: WindowsKeychainOptions): KeychainStore {
  checkService(options.service);
  const service = options.service;
  const run = options.runner ?? runCommand;
  const timeoutMs = options.timeoutMs ?? POWERSHELL_TIMEOUT_MS;
  const env = options.env;

  const powershell = (): string => {
    const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
    const root = env && "SystemRoot" in env ? env.SystemRoot : g.process?.env?.SystemRoot;
    return root ? `${root}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe` : "powershell.exe";
  };
  const check = (profile: string) => checkStorageKey(profile);
  /** The credential of `profile`; its parts are `<target>:part:<id>:<n>`. */
  const target = (profile: string) => `${service}:${caseSafeName(profile)}`;
  /** Where earlier versions kept `profile`, when that differs from {@link target}. */
  const rawTarget = (profile: string) => (hasRawName(profile) ? `${service}:${profile}` : undefined);

  async function call(action: StoreAction, profile: string, ops: CredentialOperation[]): Promise<CredentialResult> {
    const result: CommandResult = await run(powershell(), POWERSHELL_ARGS, {
      stdin: powershellInput({ ops }),
      timeoutMs,
      env,
    });
    const context = { tool: "PowerShell", action, profile, timeoutMs, missingHint: MISSING_HINT };
    if (result.error !== undefined) throw toolFailure(result, context);
    const answer = parsePowershellResult(result.stdout);
    if (!answer || (answer.ok && answer.results!.length !== ops.length)) {
      throw toolFailure({ ...result, code: result.code || 1 }, context, () => ({
        reason: "PowerShell did not answer",
        hint: 'PowerShell may be restricted (Constrained Language mode); use `storage: "file"`',
      }));
    }
    if (!answer.ok) {
      const { reason, hint } = win32Reason(answer.code);
      throw storeError("storage_unavailable", action, profile, reason, { hint });
    }
    return answer;
  }

  const entryOf = (result: unknown): CredentialEntry | null =>
    typeof result === "object" && result !== null && !Array.isArray(result) ? result as CredentialEntry : null;
  const entriesOf = (result: unknown): CredentialEntry[] => Array.isArray(result) ? result as CredentialEntry[] : [];

  async function readOnce(profile: string): Promise<{ main: string | null; value: string | null | undefined }> {
    const names = [target(profile), rawTarget(profile)].filter((name) => name !== undefined);
    const ops = names.flatMap((name): CredentialOperation[] => [
      { op: "read", target: name },
      { op: "list", prefix: `${name}:part:` },
    ]);
    const { results } = await call("read", profile, ops);
    // This profile's entry: under its name, else (from an earlier version) under its raw name; either way with the
    // profile as its user name, or it belongs to another profile whose name differs only in case.
    const ours = (entry: CredentialEntry | null) => entry !== null && entry.user === profile;
    const at = names.findIndex((_, i) => ours(entryOf(results![2 * i])));
    if (at === -1) return { main: null, value: null };
    const main = fromHex(entryOf(results![2 * at])!.data);
    if (main === undefined) {
      throw storeError("storage_corrupt", "read", profile, "the credential does not hold UTF-8 text", {
        hint: "Log in again to replace it",
      });
    }
    if (!isManifest(main)) return { main, value: main };
    const manifest = parseManifest(main);
    if (!manifest) {
      throw storeError("storage_corrupt", "read", profile, "the credential is not a valid manifest of parts", {
        hint: "Log in again to replace it",
      });
    }
    const prefix = `${names[at]}:part:`;
    const byName = new Map(
      entriesOf(results![2 * at + 1]).filter(ours).map((part) => [part.target.slice(prefix.length).toLowerCase(), part.data]),
    );
    const parts = Array.from({ length: manifest.count }, (_, i) => {
      const data = byName.get(`${manifest.id}:${i + 1}`);
      return data === undefined ? undefined : fromHex(data);
    });
    return { main, value: await joinParts(manifest, parts) };
  }

  /** Removes what an earlier version stored under the raw name of `profile` (only entries with its user name). */
  const dropRaw = (profile: string): CredentialOperation[] => {
    const raw = rawTarget(profile);
    if (raw === undefined) return [];
    return [
      { op: "delete", target: raw, user: profile },
      { op: "prune", prefix: `${raw}:part:`, keep: [], user: profile },
    ];
  };

  return {
    kind: "keychain",
    backend: "credential-manager",
    async get(profile) {
      check(profile);
      let previous: string | null | undefined;
      for (let attempt = 1;; attempt++) {
        const { main, value } = await readOnce(profile);
        if (value !== undefined) return value;
        if (main === previous || attempt >= 3) {
          throw storeError("storage_corrupt", "read", profile, "a part of the credential is missing or was changed", {
            hint: "Log in again to replace it",
          });
        }
        previous = main;
      }
    },
    async set(profile, value) {
      check(profile);
      if (typeof value !== "string") throw new TypeError("A credential value must be a string");
      const { entries } = await planWrite(profile, value, CREDENTIAL_BLOB_MAX_BYTES);
      // Entry names are the profile, or the profile and `:part:<id>:<n>`.
      const nameOf = (entry: { name: string }) => `${target(profile)}${entry.name.slice(profile.length)}`;
      const writes = entries.map((entry): CredentialOperation => ({
        op: "write",
        target: nameOf(entry),
        user: profile,
        data: toHex(entry.value),
      }));
      // Parts first, the manifest (or the value) last, then the parts of earlier values and any raw-named entry.
      const keep = entries.slice(0, -1).map(nameOf);
      await call("store", profile, [
        ...writes,
        { op: "prune", prefix: `${target(profile)}:part:`, keep, user: profile },
        ...dropRaw(profile),
      ]);
    },
    async delete(profile) {
      check(profile);
      await call("delete", profile, [
        { op: "delete", target: target(profile), user: profile },
        { op: "prune", prefix: `${target(profile)}:part:`, keep: [], user: profile },
        ...dropRaw(profile),
      ]);
    },
    async probe() {
      await call("probe", service, [{ op: "read", target: `cli-auth-probe:${service}` }]);
    },
  };
}
