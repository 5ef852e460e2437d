/**
 * The one OS detector of the adapters: `"darwin"`, `"linux"`, `"windows"` or `"other"`, read when asked (never at
 * import time) from what the running runtime says (`runtimes.ts`). The stores' and the lock's choices, the browser
 * opener and `flow: "auto"` all use it. WSL is told apart by `isWsl()` in `terminal.ts`.
 *
 * @module
 */

import type { EnvironmentSnapshot } from "../src/contracts.ts";
import { runtimeOs } from "./runtimes.ts";

/**
 * An operating system as the adapters name it.
 *
 * @example Usage
 * ```ts
 * import type { OsName } from "./os.ts";
 * const os: OsName = "windows";
 * ```
 */
export type OsName = EnvironmentSnapshot["os"];

/**
 * The OS a platform name stands for: a `process.platform` value (`"darwin"`, `"linux"`, `"win32"`, …), a
 * `Deno.build.os` value (`"windows"`, …) or an {@link OsName}.
 *
 * @param platform the name
 * @returns `"darwin"`, `"linux"`, `"windows"`, else `"other"`
 *
 * @example Usage
 * ```ts
 * import { osName } from "./os.ts";
 * console.assert(osName("win32") === "windows" && osName("freebsd") === "other");
 * ```
 */
export function osName(platform: string): OsName {
  if (platform === "darwin") return "darwin";
  if (platform === "linux") return "linux";
  if (platform === "windows" || platform === "win32") return "windows";
  return "other";
}

/**
 * This machine's operating system.
 *
 * @returns `"darwin"`, `"linux"`, `"windows"` or `"other"`
 *
 * @example Usage
 * ```ts
 * import { currentOs } from "./os.ts";
 * if (currentOs() === "darwin") console.log("macOS");
 * ```
 */
export function currentOs(): OsName {
  return osName(runtimeOs());
}
