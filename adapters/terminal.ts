/**
 * The {@link Terminal} of the platform, built from a runtime's pieces: stderr and the environment as the runtime
 * gives them, one line of stdin (the manual-paste flow: `node:readline`, which Deno and Bun implement too, loaded on
 * first use; stdin is released afterwards so the process can exit), and the snapshot `flow: "auto"` decides on.
 * Nothing is read until a method is called.
 *
 * @module
 */

import { CliAuthError } from "../src/common/errors.ts";
import type { EnvironmentSnapshot, Terminal } from "../src/contracts.ts";
import { currentOs } from "./os.ts";
import type { RuntimePieces } from "./runtime_pieces.ts";

/** The variables `flow: "auto"` and the browser opener look at. */
export const ENVIRONMENT_VARIABLES = [
  "SSH_CONNECTION",
  "SSH_CLIENT",
  "SSH_TTY",
  "DISPLAY",
  "WAYLAND_DISPLAY",
  "CI",
  "BROWSER",
  "WSL_DISTRO_NAME",
  "CODESPACES",
  "REMOTE_CONTAINERS",
  "TERM",
] as const;

/**
 * The terminal of a runtime.
 *
 * @param runtime the runtime's pieces
 * @returns the terminal
 */
export function createTerminal(runtime: RuntimePieces): Terminal {
  return {
    writeStderr: runtime.writeStderr,
    env: runtime.env,
    readLine: (prompt, signal) => readLine(prompt, signal, runtime.writeStderr),
    environment: () => environmentSnapshot(runtime),
  };
}

/**
 * Whether this Linux is Windows Subsystem for Linux (from `WSL_DISTRO_NAME`/`WSL_INTEROP`, else `/proc/version`).
 *
 * @param runtime the runtime's pieces
 * @returns true on WSL
 */
export async function isWsl(runtime: RuntimePieces): Promise<boolean> {
  if (currentOs() !== "linux") return false;
  if (runtime.env("WSL_DISTRO_NAME") || runtime.env("WSL_INTEROP")) return true;
  try {
    return /microsoft|wsl/i.test(await runtime.readTextFile("/proc/version"));
  } catch {
    return false;
  }
}

/**
 * The snapshot `flow: "auto"` decides on.
 *
 * @param runtime the runtime's pieces
 * @returns OS, relevant variables, terminals, WSL
 */
export async function environmentSnapshot(runtime: RuntimePieces): Promise<EnvironmentSnapshot> {
  const env: Record<string, string | undefined> = {};
  for (const name of ENVIRONMENT_VARIABLES) env[name] = runtime.env(name);
  let stdinIsTTY = false;
  let stderrIsTTY = false;
  try {
    stdinIsTTY = await runtime.isTerminal("stdin");
    stderrIsTTY = await runtime.isTerminal("stderr");
  } catch {
    // No terminal information: treat as not a terminal.
  }
  return { os: currentOs(), env, stdinIsTTY, stderrIsTTY, wsl: await isWsl(runtime) };
}

/**
 * Prints `prompt` on stderr and reads one line from stdin (without its line ending).
 *
 * @param prompt the question
 * @param signal cancels the wait; the promise then rejects with the signal's reason
 * @param writeStderr where the prompt goes
 * @returns the line
 * @throws {CliAuthError} `login_cancelled` when stdin ends before a line came
 *
 * @example Usage
 * ```ts
 * import { readLine } from "./terminal.ts";
 * const pasted = await readLine("Paste the URL your browser was sent to: ", undefined, (text) => console.error(text));
 * ```
 */
export async function readLine(
  prompt: string,
  signal: AbortSignal | undefined,
  writeStderr: (text: string) => void,
): Promise<string> {
  if (signal?.aborted) throw signal.reason;
  const { createInterface } = await import("node:readline");
  const input = (globalThis as unknown as { process: { stdin: NodeJS.ReadableStream & { pause(): void; unref?(): void } } })
    .process.stdin;
  writeStderr(prompt);
  const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
  try {
    return await new Promise<string>((resolve, reject) => {
      const onAbort = () => reject(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      lines.once("line", (line: string) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(line);
      });
      lines.once("close", () => {
        signal?.removeEventListener("abort", onAbort);
        reject(new CliAuthError("login_cancelled", "Standard input ended before anything was pasted"));
      });
    });
  } finally {
    lines.close();
    input.pause();
    input.unref?.();
  }
}
