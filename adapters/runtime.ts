/**
 * Which JavaScript runtime runs this process, decided when asked (never at import time).
 *
 * @module
 */

/**
 * The runtimes the adapters know.
 *
 * @example Usage
 * ```ts
 * import type { RuntimeKey } from "@x/cli-auth/adapters";
 * const key: RuntimeKey = "deno";
 * ```
 */
export type RuntimeKey = "deno" | "bun" | "node";

/**
 * Detects the runtime: `Deno` first, then `Bun`, then Node, in that order because Deno and Bun define `process` too.
 *
 * @returns the runtime key
 *
 * @example Usage
 * ```ts
 * import { detectRuntime } from "@x/cli-auth/adapters";
 * console.log(detectRuntime()); // "deno" | "bun" | "node"
 * ```
 */
export function detectRuntime(): RuntimeKey {
  const g = globalThis as { Deno?: { version?: unknown }; Bun?: unknown };
  if (typeof g.Deno === "object" && g.Deno !== null && g.Deno.version) return "deno";
  if (typeof g.Bun === "object" && g.Bun !== null) return "bun";
  return "node";
}
