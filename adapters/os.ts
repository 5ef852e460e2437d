/**
 * The operating system this process runs on, read when asked (never at import time).
 *
 * @module
 */

/**
 * This machine's platform as a `process.platform` value, read when called (`Deno.build.os` on Deno).
 *
 * @returns `"darwin"`, `"linux"`, `"win32"`, …
 *
 * @example Usage
 * ```ts
 * import { currentPlatform } from "@x/cli-auth/adapters";
 * const isWindows = currentPlatform() === "win32";
 * ```
 */
export function currentPlatform(): string {
  const g = globalThis as { Deno?: { build?: { os?: string } }; process?: { platform?: string } };
  const denoOs = g.Deno?.build?.os;
  if (denoOs) return denoOs === "windows" ? "win32" : denoOs;
  return g.process?.platform ?? "linux";
}
