/**
 * The few facts about this process the adapters need — OS, environment variables, terminals, stderr — read on each
 * call through whichever runtime is running (`Deno.*` on Deno, `process` on Node and Bun), never at import time.
 *
 * @module
 */

import type { EnvironmentSnapshot } from "../src/contracts.ts";
import { detectRuntime } from "./runtime.ts";

interface DenoLike {
  build: { os: string };
  env: { get(name: string): string | undefined; toObject(): Record<string, string> };
  stdin: { isTerminal(): boolean };
  stderr: { isTerminal(): boolean; writeSync(data: Uint8Array): number };
  readTextFile(path: string): Promise<string>;
}
interface ProcessLike {
  platform: string;
  env: Record<string, string | undefined>;
  stderr?: { write(text: string): boolean };
}

const deno = () => (globalThis as unknown as { Deno: DenoLike }).Deno;
const nodeProcess = () => (globalThis as unknown as { process: ProcessLike }).process;

/**
 * The operating system.
 *
 * @returns `"darwin"`, `"linux"`, `"windows"` or `"other"`
 *
 * @example Usage
 * ```ts
 * import { currentOs } from "@x/cli-auth/adapters";
 * if (currentOs() === "darwin") console.log("macOS");
 * ```
 */
export function currentOs(): EnvironmentSnapshot["os"] {
  const name = detectRuntime() === "deno" ? deno().build.os : nodeProcess().platform;
  if (name === "darwin") return "darwin";
  if (name === "linux") return "linux";
  if (name === "windows" || name === "win32") return "windows";
  return "other";
}

/**
 * Reads an environment variable; `undefined` when unset or not permitted (Deno without `--allow-env`).
 *
 * @param name the variable
 * @returns its value
 *
 * @example Usage
 * ```ts
 * import { readEnv } from "@x/cli-auth/adapters";
 * const token = readEnv("MYCLI_TOKEN");
 * ```
 */
export function readEnv(name: string): string | undefined {
  try {
    return detectRuntime() === "deno" ? deno().env.get(name) : nodeProcess().env[name];
  } catch {
    return undefined;
  }
}

/**
 * Writes text to stderr, synchronously where the runtime allows, so prompts appear in order.
 *
 * @param text what to write
 *
 * @example Usage
 * ```ts
 * import { writeStderr } from "@x/cli-auth/adapters";
 * writeStderr("Waiting for the browser…\n");
 * ```
 */
export function writeStderr(text: string): void {
  try {
    if (detectRuntime() === "deno") {
      const bytes = new TextEncoder().encode(text);
      let written = 0;
      while (written < bytes.length) written += deno().stderr.writeSync(bytes.subarray(written));
    } else {
      nodeProcess().stderr?.write(text);
    }
  } catch {
    // stderr closed: nothing to tell anyone.
  }
}

/**
 * Whether this Linux is Windows Subsystem for Linux (from `WSL_DISTRO_NAME`/`WSL_INTEROP`, else `/proc/version`).
 *
 * @returns true on WSL
 *
 * @example Usage
 * ```ts
 * import { isWsl } from "@x/cli-auth/adapters";
 * console.log(await isWsl());
 * ```
 */
export async function isWsl(): Promise<boolean> {
  if (currentOs() !== "linux") return false;
  if (readEnv("WSL_DISTRO_NAME") || readEnv("WSL_INTEROP")) return true;
  try {
    const text = detectRuntime() === "deno"
      ? await deno().readTextFile("/proc/version")
      : await (await import("node:fs/promises")).readFile("/proc/version", "utf8");
    return /microsoft|wsl/i.test(text);
  } catch {
    return false;
  }
}

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
 * The snapshot `flow: "auto"` decides on.
 *
 * @returns OS, relevant variables, terminals, WSL
 *
 * @example Usage
 * ```ts
 * import { environmentSnapshot } from "@x/cli-auth/adapters";
 * const snapshot = await environmentSnapshot();
 * ```
 */
export async function environmentSnapshot(): Promise<EnvironmentSnapshot> {
  const env: Record<string, string | undefined> = {};
  for (const name of ENVIRONMENT_VARIABLES) env[name] = readEnv(name);
  let stdinIsTTY = false;
  let stderrIsTTY = false;
  try {
    if (detectRuntime() === "deno") {
      stdinIsTTY = deno().stdin.isTerminal();
      stderrIsTTY = deno().stderr.isTerminal();
    } else {
      // isatty() rather than process.stdin, which would create a stdin stream just to ask.
      const { isatty } = await import("node:tty");
      stdinIsTTY = isatty(0);
      stderrIsTTY = isatty(2);
    }
  } catch {
    // No terminal information: treat as not a terminal.
  }
  return { os: currentOs(), env, stdinIsTTY, stderrIsTTY, wsl: await isWsl() };
}
