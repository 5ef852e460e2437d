// A stand-in for `powershell.exe` running the Credential Manager script: it decodes the request from stdin the way
// the script does and answers the way it does (one `CLIAUTH:<base64 JSON>` line), over an in-memory credential set
// with Credential Manager's rules: names compared without case, blobs of at most 2,560 bytes.
import { decodePowershellInput } from "../../adapters/keychain/windows.ts";
import type { CommandResult, CommandRunner, RunOptions } from "../../adapters/subprocess.ts";

export interface PowershellCall {
  command: string;
  args: string[];
  options: RunOptions | undefined;
}

export interface FakeCredential {
  target: string;
  user: string;
  blob: Uint8Array;
}

export interface FakePowershell {
  runner: CommandRunner;
  /** lower-cased target -> credential */
  credentials: Map<string, FakeCredential>;
  calls: PowershellCall[];
  /** Answer every request with this failure (a Win32 error code; 0 for a non-Win32 failure). */
  failWith?: number;
  /** Print nothing at all (as a PowerShell that cannot run the script). */
  silent?: boolean;
  /** Report this instead of running. */
  runnerError?: CommandResult["error"];
  /** Print a single part as an object rather than a one-element array (PowerShell 5.1 sometimes unwraps). */
  unwrapSingle?: boolean;
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (data: string) => Uint8Array.from(atob(data), (c) => c.charCodeAt(0));

export function fakePowershell(): FakePowershell {
  const fake: FakePowershell = {
    credentials: new Map(),
    calls: [],
    runner: (command, args, options) => {
      fake.calls.push({ command, args: [...args], options });
      return Promise.resolve(run(options?.stdin ?? ""));
    },
  };
  const answer = (result: unknown): CommandResult => ({
    code: 0,
    stdout: `CLIAUTH:${toBase64(new TextEncoder().encode(JSON.stringify(result)))}\r\n`,
    stderr: "",
  });

  function run(stdin: string): CommandResult {
    if (fake.runnerError) return { code: null, stdout: "", stderr: "", error: fake.runnerError };
    if (fake.silent) return { code: 1, stdout: "", stderr: "Add-Type : Cannot add type. (echo of the script)\r\n" };
    if (fake.failWith !== undefined) return answer({ ok: false, code: fake.failWith });
    const request = decodePowershellInput(stdin);
    if (!request) return { code: 1, stdout: "", stderr: "The term is not recognized\r\n" };
    const prefix = request.partPrefix.toLowerCase();
    const parts = [...fake.credentials.values()].filter((c) => c.target.toLowerCase().startsWith(prefix));
    switch (request.op) {
      case "get": {
        const found = parts.map((c) => ({ name: c.target.slice(prefix.length), data: toBase64(c.blob) }));
        const main = fake.credentials.get(request.target.toLowerCase());
        return answer({
          ok: true,
          value: main ? toBase64(main.blob) : null,
          parts: fake.unwrapSingle && found.length === 1 ? found[0] : found,
        });
      }
      case "set": {
        for (const write of request.writes) {
          const blob = fromBase64(write.data);
          if (blob.length > 2_560) return answer({ ok: false, code: 87 }); // ERROR_INVALID_PARAMETER
          fake.credentials.set(write.target.toLowerCase(), { target: write.target, user: request.user, blob });
        }
        const keep = new Set(request.keep.map((k) => k.toLowerCase()));
        for (const part of parts) {
          if (!keep.has(part.target.toLowerCase())) fake.credentials.delete(part.target.toLowerCase());
        }
        return answer({ ok: true });
      }
      case "delete": {
        fake.credentials.delete(request.target.toLowerCase());
        for (const part of parts) fake.credentials.delete(part.target.toLowerCase());
        return answer({ ok: true });
      }
      case "probe":
        return answer({ ok: true });
    }
  }
  return fake;
}
