// A stand-in for `powershell.exe -NoProfile -NonInteractive -Command -` running the Credential Manager program. It
// takes stdin the way the real one does: the first line must be the constant program (POWERSHELL_SCRIPT, compared
// byte for byte, so the fake cannot run anything else), the second line is `#` and the JSON the program reads with
// [Console]::In.ReadLine(). It parses that JSON itself (not through the module's encoder) and runs the operations
// the way the program's C# half does, over an in-memory credential set with Credential Manager's rules: names
// compared without case, user names kept as written, blobs of at most 2,560 bytes. It answers as the program does:
// one `CLIAUTH:<JSON>` line, ASCII only.
import { POWERSHELL_ARGS, POWERSHELL_SCRIPT } from "../../adapters/keychain/windows.ts";
import type { CommandResult, CommandRunner, RunOptions } from "../../adapters/subprocess.ts";

export interface PowershellCall {
  command: string;
  args: string[];
  options: RunOptions | undefined;
}

export interface FakeCredential {
  target: string;
  user: string | null;
  blob: Uint8Array;
}

/** One operation as the program reads it from the data line. */
export type FakeOperation = {
  op: string;
  target?: string;
  prefix?: string;
  user?: string;
  data?: string;
  keep?: string[];
};

export interface FakePowershell {
  runner: CommandRunner;
  /** lower-cased target -> credential */
  credentials: Map<string, FakeCredential>;
  calls: PowershellCall[];
  /** The operations of each call, as parsed from its data line. */
  requests: FakeOperation[][];
  /** Answer every request with this failure (a Win32 error code; 0 for a non-Win32 failure). */
  failWith?: number;
  /** Print nothing at all (as a PowerShell that cannot run the script). */
  silent?: boolean;
  /** Report this instead of running. */
  runnerError?: CommandResult["error"];
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** What the C# half's Json() writes: every character outside printable ASCII, `"` and `\` as a `\u` escape. */
const json = (value: string | null) =>
  value === null ? "null" : `"${value.replace(/[^\x20-\x7e]|["\\]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;

const entry = (c: FakeCredential) => `{"target":${json(c.target)},"user":${json(c.user)},"data":"${hex(c.blob)}"}`;

class Win32Error extends Error {
  constructor(readonly code: number) {
    super(`Win32 error ${code}`);
  }
}

export function fakePowershell(): FakePowershell {
  const fake: FakePowershell = {
    credentials: new Map(),
    calls: [],
    requests: [],
    runner: (command, args, options) => {
      fake.calls.push({ command, args: [...args], options });
      return Promise.resolve(run(args, options?.stdin ?? ""));
    },
  };
  const answer = (text: string): CommandResult => ({ code: 0, stdout: `CLIAUTH:${text}\r\n`, stderr: "" });

  const under = (prefix: string) =>
    [...fake.credentials.values()].filter((c) => c.target.toLowerCase().startsWith(prefix.toLowerCase()));

  function remove(target: string, user: string) {
    const found = fake.credentials.get(target.toLowerCase());
    if (found && (user === "" || found.user === user)) fake.credentials.delete(target.toLowerCase());
  }

  /** CliAuthCredentials.Run(op, target, user, data, prefix, keep), with PowerShell's [string] casts ($null is ""). */
  function operate(op: FakeOperation): string {
    const target = op.target ?? "";
    const user = op.user ?? "";
    const prefix = op.prefix ?? "";
    switch (op.op) {
      case "read": {
        const found = fake.credentials.get(target.toLowerCase());
        return found ? entry(found) : "null";
      }
      case "list":
        return `[${under(prefix).map(entry).join(",")}]`;
      case "write": {
        const data = op.data ?? "";
        if (!/^(?:[0-9a-fA-F]{2})*$/.test(data)) throw new Error("FormatException");
        const blob = Uint8Array.from(data.match(/../g) ?? [], (pair) => parseInt(pair, 16));
        if (blob.length > 2_560) throw new Win32Error(87); // ERROR_INVALID_PARAMETER
        const existing = fake.credentials.get(target.toLowerCase());
        // CredWrite replaces a credential of the same name (any case) and keeps the name it was first written with.
        fake.credentials.set(target.toLowerCase(), { target: existing?.target ?? target, user: op.user ?? "", blob });
        return "null";
      }
      case "delete":
        remove(target, user);
        return "null";
      case "prune": {
        const keep = new Set((op.keep ?? []).map((k) => k.toLowerCase()));
        const doomed = under(prefix).filter((c) => !keep.has(c.target.toLowerCase()) && (user === "" || c.user === user));
        for (const c of doomed) remove(c.target, "");
        return "null";
      }
      default:
        throw new Error("unknown operation");
    }
  }

  function run(args: readonly string[], stdin: string): CommandResult {
    if (fake.runnerError) return { code: null, stdout: "", stderr: "", error: fake.runnerError };
    if (fake.silent) return { code: 1, stdout: "", stderr: "Add-Type : Cannot add type. (echo of the script)\r\n" };
    const [script, data, rest] = stdin.split("\n");
    if (args.join(" ") !== POWERSHELL_ARGS.join(" ") || script !== POWERSHELL_SCRIPT || rest !== "") {
      return { code: 1, stdout: "", stderr: "The term is not recognized\r\n" };
    }
    if (fake.failWith !== undefined) return answer(`{"ok":false,"code":${fake.failWith}}`);
    if (data === undefined || !data.startsWith("#")) return answer(`{"ok":false,"code":0}`);
    let ops: FakeOperation[];
    try {
      ops = (JSON.parse(data.slice(1)) as { ops: FakeOperation[] }).ops;
      if (!Array.isArray(ops)) throw new Error("no ops");
    } catch {
      return answer(`{"ok":false,"code":0}`);
    }
    fake.requests.push(ops);
    const results: string[] = [];
    try {
      for (const op of ops) results.push(operate(op));
    } catch (error) {
      return answer(`{"ok":false,"code":${error instanceof Win32Error ? error.code : 0}}`);
    }
    return answer(`{"ok":true,"results":[${results.join(",")}]}`);
  }
  return fake;
}
