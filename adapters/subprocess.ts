/**
 * Running the OS's own tools (`security`, `secret-tool`, `powershell.exe`, `xdg-open`, …) without a shell: the
 * command and its arguments go to the OS as a list, secrets only ever through stdin. `node:child_process` is loaded
 * on first use, so importing this module costs nothing; it works the same on Node, Bun and Deno.
 *
 * @module
 */

/**
 * How a command ended.
 *
 * @example Usage
 * ```ts
 * import type { CommandResult } from "@x/cli-auth/adapters";
 * const ok = (r: CommandResult) => r.error === undefined && r.code === 0;
 * ```
 */
export interface CommandResult {
  /** Exit code; `null` when it did not exit normally (killed, not started). */
  code: number | null;
  /** Everything the command wrote to stdout, decoded as UTF-8 (what arrived before a timeout). */
  stdout: string;
  /** Everything the command wrote to stderr, decoded as UTF-8 (what arrived before a timeout). */
  stderr: string;
  /** Set when the command could not run to its end. */
  error?: "not_found" | "timeout" | "spawn_failed";
}

/**
 * Options of {@link runCommand}.
 *
 * @example Usage
 * ```ts
 * import type { RunOptions } from "@x/cli-auth/adapters";
 * const options: RunOptions = { stdin: "secret\n", timeoutMs: 5_000 };
 * ```
 */
export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed. The only way secrets reach a command. */
  stdin?: string;
  /** Killed after this many milliseconds (default 10 000); the result then has `error: "timeout"`. */
  timeoutMs?: number;
  /** Environment variables to set on top of the current environment (`undefined` removes one). */
  env?: Record<string, string | undefined>;
}

/**
 * Runs a command without a shell and collects its output. Never throws: a missing command, a timeout or a spawn
 * failure is reported in `error`.
 *
 * @example Usage
 * ```ts
 * import { runCommand, type CommandRunner } from "@x/cli-auth/adapters";
 * const run: CommandRunner = runCommand;
 * const { code, stdout } = await run("secret-tool", ["lookup", "service", "my-cli", "account", "default"]);
 * ```
 */
export type CommandRunner = (command: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

/**
 * Starts a command in the background and lets it go (a browser opener). Resolves `true` once it started, `false`
 * when it could not start. Never throws and never waits for the command to finish.
 *
 * @example Usage
 * ```ts
 * import { type DetachedSpawner } from "@x/cli-auth/adapters";
 * import { spawnDetached } from "./subprocess.ts";
 * const spawn: DetachedSpawner = spawnDetached;
 * await spawn("xdg-open", ["https://example.com/?a=1&b=2"]);
 * ```
 */
export type DetachedSpawner = (command: string, args: readonly string[]) => Promise<boolean>;

/** The default timeout of {@link runCommand}. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

type ChildProcessModule = typeof import("node:child_process");
let childProcess: Promise<ChildProcessModule> | undefined;
const loadChildProcess = () => (childProcess ??= import("node:child_process"));

function environment(extra: RunOptions["env"]): Record<string, string> | undefined {
  if (!extra) return undefined;
  const g = globalThis as { process?: { env: Record<string, string | undefined> } };
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries(g.process?.env ?? {})) if (value !== undefined) merged[key] = value;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/**
 * Runs `command` with `args` (no shell), feeds `stdin`, and collects stdout and stderr as UTF-8.
 *
 * @param command the executable (looked up on PATH)
 * @param args its arguments, passed as a list
 * @param options stdin, timeout, environment
 * @returns exit code and output; `error` when it could not run to its end
 *
 * @example Usage
 * ```ts
 * import { runCommand } from "@x/cli-auth/adapters";
 * const result = await runCommand("secret-tool", ["store", "--label", "my-cli", "service", "my-cli"], { stdin: "value" });
 * if (result.error === "not_found") console.error("secret-tool is not installed");
 * ```
 */
export async function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const { spawn } = await loadChildProcess();
  return await new Promise<CommandResult>((resolve) => {
    let stdout = "";
    let stderr = "";
    let settled = false;
    let timedOut = false;
    const finish = (result: CommandResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let child: ReturnType<ChildProcessModule["spawn"]>;
    try {
      child = spawn(command, [...args], {
        stdio: ["pipe", "pipe", "pipe"],
        env: environment(options.env),
        shell: false,
        windowsHide: true,
      });
    } catch {
      resolve({ code: null, stdout, stderr, error: "spawn_failed" });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
      finish({ code: null, stdout, stderr, error: "timeout" });
    }, options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => void (stdout += chunk));
    child.stderr!.on("data", (chunk: string) => void (stderr += chunk));
    child.on("error", (error: Error & { code?: string }) => {
      finish({ code: null, stdout, stderr, error: error.code === "ENOENT" ? "not_found" : "spawn_failed" });
    });
    child.on("close", (code: number | null) => {
      finish(timedOut ? { code: null, stdout, stderr, error: "timeout" } : { code, stdout, stderr });
    });
    child.stdin!.on("error", () => {});
    child.stdin!.end(options.stdin ?? "");
  });
}

/**
 * Starts `command` detached from this process, with no stdio, and does not wait for it.
 *
 * @param command the executable
 * @param args its arguments, passed as a list (a URL with `&` stays one argument)
 * @returns whether it started
 *
 * @example Usage
 * ```ts
 * import { spawnDetached } from "./subprocess.ts";
 * const started = await spawnDetached("open", ["https://example.com/"]);
 * ```
 */
export async function spawnDetached(command: string, args: readonly string[]): Promise<boolean> {
  try {
    const { spawn } = await loadChildProcess();
    return await new Promise<boolean>((resolve) => {
      const child = spawn(command, [...args], { detached: true, stdio: "ignore", shell: false, windowsHide: true });
      child.once("error", () => resolve(false));
      child.once("spawn", () => {
        child.unref();
        resolve(true);
      });
    });
  } catch {
    return false;
  }
}
