// A stand-in for macOS `/usr/bin/security`, faithful to what the store relies on (Apple's SecurityTool sources):
// - `-i` reads commands from stdin, lines of at most 4,095 bytes (the rest of a longer line becomes the next
//   command), split on whitespace with "…" / '…' quoting and `\` escapes; it exits with the status of the last
//   command and prints "<command>: returned <n>" on stderr for each failed one.
// - `find-generic-password -g` prints attributes on stdout and `password: …` on stderr, formatted by print_buffer():
//   `"text"` when every byte is printable ASCII other than `\`, else `0x<HEX>` (upper case), followed by two spaces
//   and the escaped text when some bytes are printable, one space when none is.
// - exit status is the low byte of the OSStatus: 44 for errSecItemNotFound.
import type { CommandResult, CommandRunner, RunOptions } from "../../adapters/subprocess.ts";

export interface SecurityCall {
  command: string;
  args: string[];
  options: RunOptions | undefined;
}

export interface FakeSecurity {
  runner: CommandRunner;
  /** service + "\u0000" + account -> password bytes */
  items: Map<string, Uint8Array>;
  calls: SecurityCall[];
  /** Makes every command fail with this exit status and stderr (e.g. 36, "User interaction is not allowed."). */
  failWith?: { code: number; stderr: string };
  /** Makes the runner report this instead of running (not_found, timeout, spawn_failed). */
  runnerError?: CommandResult["error"];
}

const key = (service: string, account: string) => `${service}\u0000${account}`;

function printBuffer(bytes: Uint8Array): string {
  let hex = false;
  let ascii = false;
  for (const b of bytes) {
    if (b >= 0x20 && b <= 0x7e && b !== 0x5c) ascii = true;
    else hex = true;
  }
  let out = "";
  if (hex) {
    out += "0x" + Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join("");
    if (ascii) out += " ";
    out += " "; // the missing braces in print_buffer: this second space is always printed
  }
  if (ascii) {
    out += '"';
    for (const b of bytes) {
      out += b >= 0x20 && b <= 0x7e && b !== 0x5c ? String.fromCharCode(b) : "\\" + b.toString(8).padStart(3, "0");
    }
    out += '"';
  }
  return out;
}

/** security.c split_line(). */
export function splitLine(line: string): string[] {
  const args: string[] = [];
  let state: "ws" | "arg" | "argEsc" | "quoted" | "quotedEsc" = "ws";
  let quote = "";
  let current = "";
  for (const ch of line) {
    if (state === "ws") {
      if (/\s/.test(ch)) continue;
      if (ch === '"' || ch === "'") {
        quote = ch;
        state = "quoted";
        current = "";
        continue;
      }
      state = "arg";
      current = "";
    }
    if (state === "arg") {
      if (ch === "\\") state = "argEsc";
      else if (/\s/.test(ch)) {
        args.push(current);
        state = "ws";
      } else current += ch;
      continue;
    }
    if (state === "argEsc") {
      current += ch;
      state = "arg";
      continue;
    }
    if (state === "quoted") {
      if (ch === "\\") state = "quotedEsc";
      else if (ch === quote) {
        args.push(current);
        state = "ws";
      } else current += ch;
      continue;
    }
    current += ch;
    state = "quoted";
  }
  if (state !== "ws") args.push(current);
  return args;
}

function options(args: string[]): Map<string, string | true> {
  const found = new Map<string, string | true>();
  for (let i = 1; i < args.length; i++) {
    const flag = args[i]!;
    if (flag === "-U" || flag === "-g" || flag === "-w") found.set(flag, true);
    else found.set(flag, args[++i] ?? "");
  }
  return found;
}

export function fakeSecurity(): FakeSecurity {
  const fake: FakeSecurity = {
    items: new Map(),
    calls: [],
    runner: (command, args, runOptions) => {
      fake.calls.push({ command, args: [...args], options: runOptions });
      return Promise.resolve(run(command, [...args], runOptions?.stdin ?? ""));
    },
  };

  function execute(args: string[]): { code: number; stdout: string; stderr: string } {
    if (fake.failWith) return { code: fake.failWith.code, stdout: "", stderr: fake.failWith.stderr };
    const opts = options(args);
    const service = String(opts.get("-s") ?? "");
    const account = String(opts.get("-a") ?? "");
    const notFound = {
      code: 44,
      stdout: "",
      stderr: "security: SecKeychainSearchCopyNext: The specified item could not be found in the keychain.\n",
    };
    switch (args[0]) {
      case "find-generic-password": {
        const bytes = fake.items.get(key(service, account));
        if (!bytes) return notFound;
        const stdout = `keychain: "/Users/me/Library/Keychains/login.keychain-db"\nclass: "genp"\nattributes:\n    "acct"<blob>="${account}"\n    "svce"<blob>="${service}"\n`;
        return { code: 0, stdout, stderr: opts.has("-g") ? `password: ${printBuffer(bytes)}\n` : "" };
      }
      case "add-generic-password": {
        const hex = opts.get("-X");
        const text = opts.get("-w");
        if (!service || !account || (hex === undefined && text === undefined)) {
          return { code: 2, stdout: "", stderr: "Usage: add-generic-password …\n" };
        }
        if (fake.items.has(key(service, account)) && !opts.has("-U")) {
          return { code: 45, stdout: "", stderr: "security: SecKeychainItemCreateFromContent: The specified item already exists in the keychain.\n" };
        }
        const bytes = typeof hex === "string"
          ? Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16))
          : new TextEncoder().encode(String(text));
        fake.items.set(key(service, account), bytes);
        return { code: 0, stdout: "", stderr: "" };
      }
      case "delete-generic-password": {
        if (!fake.items.delete(key(service, account))) return notFound;
        return { code: 0, stdout: "keychain: …\n", stderr: "password has been deleted.\n" };
      }
      default:
        return { code: 1, stdout: "", stderr: `security: unknown command "${args[0]}"\n` };
    }
  }

  function run(command: string, args: string[], stdin: string): CommandResult {
    if (fake.runnerError) return { code: null, stdout: "", stderr: "", error: fake.runnerError };
    if (command !== "/usr/bin/security") return { code: null, stdout: "", stderr: "", error: "not_found" };
    if (args[0] !== "-i") return execute(args);
    // readline() with a 4,096-byte buffer: at most 4,095 bytes per line, the rest is read as the next line.
    const bytes = new TextEncoder().encode(stdin);
    const lines: string[] = [];
    let start = 0;
    while (start < bytes.length) {
      let end = start;
      while (end < bytes.length && bytes[end] !== 0x0a && end - start < 4095) end++;
      lines.push(new TextDecoder().decode(bytes.slice(start, end)));
      start = bytes[end] === 0x0a ? end + 1 : end;
    }
    let code = 0;
    let stdout = "";
    let stderr = "";
    for (const line of lines) {
      const argv = splitLine(line);
      if (argv.length === 0) continue;
      const result = execute(argv);
      code = result.code;
      stdout += result.stdout;
      stderr += result.stderr;
      if (code !== 0) stderr += `${argv[0]}: returned ${code}\n`;
    }
    return { code, stdout, stderr };
  }

  return fake;
}
