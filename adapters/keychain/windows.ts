/**
 * Windows Credential Manager through Windows PowerShell 5.1 (present on every Windows 10/11 and Server): a script
 * calls `CredReadW`, `CredWriteW`, `CredDeleteW` and `CredEnumerateW` from advapi32 through P/Invoke (`Add-Type`).
 * No native addon, so it works the same from Deno, Node and compiled binaries.
 *
 * - Entries are generic credentials (`CRED_TYPE_GENERIC`) named `<service>:<profile>`, user name `<profile>`,
 *   persisted for the local machine (`CRED_PERSIST_LOCAL_MACHINE`: they do not roam). The blob is the UTF-8 of the
 *   value. Credential Manager compares names without regard to case, so profiles that differ only in case share one
 *   entry.
 * - The program goes to `powershell.exe -NoProfile -NonInteractive -Command -` on stdin, as one line that decodes
 *   and runs the real script (PowerShell reads `-Command -` line by line and would stop at multi-line blocks). The
 *   value travels inside that stdin text, base64-encoded, and never in an argument.
 * - A blob holds at most 2,560 bytes (`CRED_MAX_CREDENTIAL_BLOB_SIZE`). Larger values are split into parts named
 *   `<service>:<profile>:part:<id>:<n>` with a manifest in `<service>:<profile>` (see `_chunks.ts`). One PowerShell run
 *   does a whole operation: a read returns the entry and every part under its prefix (`CredEnumerateW`), a write
 *   writes the parts, then the manifest, then deletes the parts of earlier values, a delete removes all of them.
 * - The script answers with one line, `CLIAUTH:` and base64 of a JSON result; Win32 error codes are mapped here.
 *   PowerShell's own error text is never copied into errors.
 *
 * Starting PowerShell and compiling the P/Invoke type takes about a second, hence a 30 s default timeout.
 *
 * @module
 */
import type { KeychainStore } from "../keychain.ts";
import { CliAuthError } from "../../src/errors.ts";
import { checkProfile, checkService, type StoreAction, storeError } from "../storage/_profile.ts";
import { type CommandResult, type CommandRunner, runCommand } from "../subprocess.ts";
import { isManifest, joinParts, parseManifest, planWrite } from "./_chunks.ts";
import { toolFailure } from "./_failure.ts";

/**
 * Options of {@link windowsKeychainStore}.
 *
 * @example Usage
 * ```ts
 * import type { WindowsKeychainOptions } from "@x/cli-auth/adapters";
 * const options: WindowsKeychainOptions = { service: "my-cli", timeoutMs: 60_000 };
 * ```
 */
export interface WindowsKeychainOptions {
  /** Names the credentials `<service>:<profile>` (your CLI's name). */
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
 * import { CREDENTIAL_BLOB_MAX_BYTES } from "@x/cli-auth/adapters";
 * const parts = Math.ceil(7_000 / CREDENTIAL_BLOB_MAX_BYTES); // 3
 * ```
 */
export const CREDENTIAL_BLOB_MAX_BYTES = 2_560;

/**
 * The default timeout of a PowerShell run (its start and the `Add-Type` compile take about a second).
 *
 * @example Usage
 * ```ts
 * import { POWERSHELL_TIMEOUT_MS, windowsKeychainStore } from "@x/cli-auth/adapters";
 * const store = windowsKeychainStore({ service: "my-cli", timeoutMs: 2 * POWERSHELL_TIMEOUT_MS });
 * ```
 */
export const POWERSHELL_TIMEOUT_MS = 30_000;

/**
 * The arguments PowerShell is started with; the program comes on stdin.
 *
 * @example Usage
 * ```ts
 * import { POWERSHELL_ARGS } from "@x/cli-auth/adapters";
 * console.assert(POWERSHELL_ARGS.join(" ") === "-NoProfile -NonInteractive -Command -");
 * ```
 */
export const POWERSHELL_ARGS: readonly string[] = ["-NoProfile", "-NonInteractive", "-Command", "-"];

/**
 * What the script prints before the base64 of its JSON result.
 *
 * @example Usage
 * ```ts
 * import { RESULT_MARKER } from "@x/cli-auth/adapters";
 * const line = `${RESULT_MARKER}${btoa('{"ok":true}')}`;
 * ```
 */
export const RESULT_MARKER = "CLIAUTH:";

/**
 * One operation for the script. `data` fields are base64 of UTF-8.
 *
 * @example Usage
 * ```ts
 * import type { CredentialRequest } from "@x/cli-auth/adapters";
 * const request: CredentialRequest = { op: "get", target: "my-cli:default", partPrefix: "my-cli:default:part:" };
 * ```
 */
export type CredentialRequest =
  | { op: "get"; target: string; partPrefix: string }
  | { op: "set"; target: string; user: string; partPrefix: string; writes: { target: string; data: string }[]; keep: string[] }
  | { op: "delete"; target: string; partPrefix: string }
  | { op: "probe"; target: string; partPrefix: string };

/**
 * What the script answers.
 *
 * @example Usage
 * ```ts
 * import type { CredentialResult } from "@x/cli-auth/adapters";
 * const missing: CredentialResult = { ok: true, value: null, parts: [] };
 * const noSession: CredentialResult = { ok: false, code: 1312 };
 * ```
 */
export interface CredentialResult {
  /** Whether the operation succeeded. */
  ok: boolean;
  /** base64 of the entry's blob, or null when it does not exist (`get`). */
  value?: string | null;
  /** Every part under the prefix: `name` is the rest of its target after the prefix (`get`). */
  parts?: { name: string; data: string }[] | { name: string; data: string } | null;
  /** The Win32 error code when `ok` is false (0 when the failure was not a Win32 error). */
  code?: number;
}

const CSHARP = `
using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.InteropServices;

public static class CliAuthCredentials {
  [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
  private struct CREDENTIAL {
    public uint Flags;
    public uint Type;
    public string TargetName;
    public string Comment;
    public System.Runtime.InteropServices.ComTypes.FILETIME LastWritten;
    public uint CredentialBlobSize;
    public IntPtr CredentialBlob;
    public uint Persist;
    public uint AttributeCount;
    public IntPtr Attributes;
    public string TargetAlias;
    public string UserName;
  }

  [DllImport("advapi32.dll", EntryPoint = "CredReadW", CharSet = CharSet.Unicode, SetLastError = true)]
  private static extern bool CredRead(string target, uint type, uint flags, out IntPtr credential);
  [DllImport("advapi32.dll", EntryPoint = "CredWriteW", CharSet = CharSet.Unicode, SetLastError = true)]
  private static extern bool CredWrite(ref CREDENTIAL credential, uint flags);
  [DllImport("advapi32.dll", EntryPoint = "CredDeleteW", CharSet = CharSet.Unicode, SetLastError = true)]
  private static extern bool CredDelete(string target, uint type, uint flags);
  [DllImport("advapi32.dll", EntryPoint = "CredEnumerateW", CharSet = CharSet.Unicode, SetLastError = true)]
  private static extern bool CredEnumerate(string filter, uint flags, out uint count, out IntPtr credentials);
  [DllImport("advapi32.dll")]
  private static extern void CredFree(IntPtr buffer);

  private const uint CRED_TYPE_GENERIC = 1;
  private const uint CRED_PERSIST_LOCAL_MACHINE = 2;
  private const int ERROR_NOT_FOUND = 1168;

  public static string Read(string target) {
    IntPtr pointer;
    if (!CredRead(target, CRED_TYPE_GENERIC, 0, out pointer)) {
      int error = Marshal.GetLastWin32Error();
      if (error == ERROR_NOT_FOUND) return null;
      throw new Win32Exception(error);
    }
    try {
      CREDENTIAL credential = (CREDENTIAL)Marshal.PtrToStructure(pointer, typeof(CREDENTIAL));
      byte[] blob = new byte[credential.CredentialBlobSize];
      if (blob.Length > 0) Marshal.Copy(credential.CredentialBlob, blob, 0, blob.Length);
      return Convert.ToBase64String(blob);
    } finally {
      CredFree(pointer);
    }
  }

  public static string[] List(string prefix) {
    uint count;
    IntPtr list;
    if (!CredEnumerate(prefix + "*", 0, out count, out list)) {
      int error = Marshal.GetLastWin32Error();
      if (error == ERROR_NOT_FOUND) return new string[0];
      throw new Win32Exception(error);
    }
    try {
      List<string> names = new List<string>();
      for (int i = 0; i < count; i++) {
        IntPtr item = Marshal.ReadIntPtr(list, i * IntPtr.Size);
        CREDENTIAL credential = (CREDENTIAL)Marshal.PtrToStructure(item, typeof(CREDENTIAL));
        if (credential.Type == CRED_TYPE_GENERIC && credential.TargetName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) {
          names.Add(credential.TargetName);
        }
      }
      return names.ToArray();
    } finally {
      CredFree(list);
    }
  }

  public static void Write(string target, string user, string data) {
    byte[] blob = Convert.FromBase64String(data);
    CREDENTIAL credential = new CREDENTIAL();
    credential.Type = CRED_TYPE_GENERIC;
    credential.TargetName = target;
    credential.UserName = user;
    credential.Persist = CRED_PERSIST_LOCAL_MACHINE;
    credential.CredentialBlobSize = (uint)blob.Length;
    credential.CredentialBlob = Marshal.AllocHGlobal(Math.Max(blob.Length, 1));
    try {
      Marshal.Copy(blob, 0, credential.CredentialBlob, blob.Length);
      if (!CredWrite(ref credential, 0)) throw new Win32Exception(Marshal.GetLastWin32Error());
    } finally {
      Marshal.Copy(new byte[blob.Length], 0, credential.CredentialBlob, blob.Length);
      Marshal.FreeHGlobal(credential.CredentialBlob);
      Array.Clear(blob, 0, blob.Length);
    }
  }

  public static void Delete(string target) {
    if (!CredDelete(target, CRED_TYPE_GENERIC, 0)) {
      int error = Marshal.GetLastWin32Error();
      if (error != ERROR_NOT_FOUND) throw new Win32Exception(error);
    }
  }
}
`;

/** The PowerShell program; `__REQUEST__` becomes the base64 of the JSON request. */
const SCRIPT = `$ErrorActionPreference = 'Stop'
function Write-CliAuthResult($result) {
  $json = ConvertTo-Json -InputObject $result -Compress -Depth 5
  [Console]::Out.WriteLine('${RESULT_MARKER}' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($json)))
}
try {
  Add-Type -TypeDefinition @'
${CSHARP}
'@
  $request = ConvertFrom-Json ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('__REQUEST__')))
  $prefix = [string]$request.partPrefix
  $parts = [CliAuthCredentials]::List($prefix)
  if ($request.op -eq 'get') {
    $found = @()
    foreach ($name in $parts) {
      $data = [CliAuthCredentials]::Read($name)
      if ($null -ne $data) { $found += @{ name = $name.Substring($prefix.Length); data = $data } }
    }
    Write-CliAuthResult @{ ok = $true; value = [CliAuthCredentials]::Read($request.target); parts = $found }
  } elseif ($request.op -eq 'set') {
    foreach ($write in $request.writes) { [CliAuthCredentials]::Write($write.target, $request.user, $write.data) }
    $keep = @($request.keep)
    foreach ($name in $parts) { if ($keep -notcontains $name) { [CliAuthCredentials]::Delete($name) } }
    Write-CliAuthResult @{ ok = $true }
  } elseif ($request.op -eq 'delete') {
    [CliAuthCredentials]::Delete($request.target)
    foreach ($name in $parts) { [CliAuthCredentials]::Delete($name) }
    Write-CliAuthResult @{ ok = $true }
  } else {
    $null = [CliAuthCredentials]::Read($request.target)
    Write-CliAuthResult @{ ok = $true }
  }
} catch {
  $exception = $_.Exception
  while ($null -ne $exception.InnerException -and -not ($exception -is [System.ComponentModel.Win32Exception])) {
    $exception = $exception.InnerException
  }
  $code = 0
  if ($exception -is [System.ComponentModel.Win32Exception]) { $code = $exception.NativeErrorCode }
  Write-CliAuthResult @{ ok = $false; code = $code }
}
`;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function toBase64(text: string): string {
  let binary = "";
  for (const byte of encoder.encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(data: string): string | undefined {
  try {
    return decoder.decode(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/**
 * The stdin text that runs `request`: one line that decodes the program from base64 and runs it.
 *
 * @param request the operation
 * @returns what to write to `powershell.exe -Command -`
 *
 * @example Usage
 * ```ts
 * import { powershellInput } from "@x/cli-auth/adapters";
 * const stdin = powershellInput({ op: "delete", target: "my-cli:work", partPrefix: "my-cli:work:part:" });
 * console.assert(stdin.endsWith("\n") && !stdin.slice(0, -1).includes("\n"));
 * ```
 */
export function powershellInput(request: CredentialRequest): string {
  const script = SCRIPT.replace("__REQUEST__", toBase64(JSON.stringify(request)));
  return `& ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${
    toBase64(script)
  }'))))\n`;
}

/**
 * Recovers the request from {@link powershellInput}'s text (tests and debugging).
 *
 * @param input the stdin text
 * @returns the request, or `undefined` when the text is not one of ours
 *
 * @example Usage
 * ```ts
 * import { decodePowershellInput, powershellInput } from "@x/cli-auth/adapters";
 * const request = { op: "probe", target: "t", partPrefix: "t:part:" } as const;
 * console.assert(decodePowershellInput(powershellInput(request))?.op === "probe");
 * ```
 */
export function decodePowershellInput(input: string): CredentialRequest | undefined {
  const script = /FromBase64String\('([A-Za-z0-9+/=]+)'\)/.exec(input)?.[1];
  const text = script === undefined ? undefined : fromBase64(script);
  const request = text === undefined ? undefined : /FromBase64String\('([A-Za-z0-9+/=]+)'\)\)\)/.exec(text)?.[1];
  const json = request === undefined ? undefined : fromBase64(request);
  return json === undefined ? undefined : JSON.parse(json) as CredentialRequest;
}

/**
 * Parses the script's answer from PowerShell's stdout.
 *
 * @param stdout everything PowerShell printed
 * @returns the result of the last `CLIAUTH:` line; `undefined` when there is none or it does not parse
 *
 * @example Usage
 * ```ts
 * import { parsePowershellResult } from "@x/cli-auth/adapters";
 * console.assert(parsePowershellResult(`CLIAUTH:${btoa('{"ok":true}')}\r\n`)?.ok === true);
 * ```
 */
export function parsePowershellResult(stdout: string): CredentialResult | undefined {
  const line = stdout.split(/\r?\n/).reverse().find((l) => l.startsWith(RESULT_MARKER));
  const json = line === undefined ? undefined : fromBase64(line.slice(RESULT_MARKER.length).trim());
  if (json === undefined) return undefined;
  try {
    const result = JSON.parse(json) as CredentialResult;
    return typeof result === "object" && result !== null && typeof result.ok === "boolean" ? result : undefined;
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
 * split value lost a part; `invalid_options` for a bad service or profile name (`*` is not allowed in either)
 *
 * @example Usage
 * ```ts
 * import { windowsKeychainStore } from "@x/cli-auth/adapters";
 * const store = windowsKeychainStore({ service: "my-cli" });
 * await store.set("default", JSON.stringify({ accessToken: "…" }));
 * console.log(await store.get("default"));
 * ```
 */
export function windowsKeychainStore(options: WindowsKeychainOptions): KeychainStore {
  checkService(options.service);
  const service = options.service;
  if (service.includes("*")) throw new CliAuthError("invalid_options", "Invalid `service`: `*` is not allowed on Windows");
  const run = options.runner ?? runCommand;
  const timeoutMs = options.timeoutMs ?? POWERSHELL_TIMEOUT_MS;
  const env = options.env;

  const powershell = (): string => {
    const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
    const root = env && "SystemRoot" in env ? env.SystemRoot : g.process?.env?.SystemRoot;
    return root ? `${root}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe` : "powershell.exe";
  };
  const check = (profile: string) => {
    checkProfile(profile);
    if (profile.includes("*")) {
      throw new CliAuthError("invalid_options", `Invalid profile name ${JSON.stringify(profile)}: \`*\` is not allowed on Windows`);
    }
  };
  const target = (profile: string) => `${service}:${profile}`;
  const partPrefix = (profile: string) => `${service}:${profile}:part:`;

  async function call(action: StoreAction, profile: string, request: CredentialRequest): Promise<CredentialResult> {
    const result: CommandResult = await run(powershell(), POWERSHELL_ARGS, {
      stdin: powershellInput(request),
      timeoutMs,
      env,
    });
    const context = { tool: "PowerShell", action, profile, timeoutMs, missingHint: MISSING_HINT };
    if (result.error !== undefined) throw toolFailure(result, context);
    const answer = parsePowershellResult(result.stdout);
    if (!answer) {
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

  async function readOnce(profile: string): Promise<{ main: string | null; value: string | null | undefined }> {
    const answer = await call("read", profile, { op: "get", target: target(profile), partPrefix: partPrefix(profile) });
    if (answer.value === null || answer.value === undefined) return { main: null, value: null };
    const main = fromBase64(answer.value);
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
    const list = answer.parts === null || answer.parts === undefined
      ? []
      : Array.isArray(answer.parts)
      ? answer.parts
      : [answer.parts];
    const byName = new Map(list.map((part) => [part.name.toLowerCase(), part.data]));
    const parts = Array.from({ length: manifest.count }, (_, i) => {
      const data = byName.get(`${manifest.id}:${i + 1}`);
      return data === undefined ? undefined : fromBase64(data);
    });
    return { main, value: await joinParts(manifest, parts) };
  }

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
      const writes = entries.map((entry) => ({ target: `${service}:${entry.name}`, data: toBase64(entry.value) }));
      await call("store", profile, {
        op: "set",
        target: target(profile),
        user: profile,
        partPrefix: partPrefix(profile),
        writes,
        keep: writes.slice(0, -1).map((write) => write.target),
      });
    },
    async delete(profile) {
      check(profile);
      await call("delete", profile, { op: "delete", target: target(profile), partPrefix: partPrefix(profile) });
    },
    async probe() {
      const probeTarget = `cli-auth-probe:${service}`;
      await call("probe", service, { op: "probe", target: probeTarget, partPrefix: `${probeTarget}:part:` });
    },
  };
}
