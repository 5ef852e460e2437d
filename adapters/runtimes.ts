/**
 * THE table of runtimes: how each is detected, what it calls its operating system, and where its pieces are (a
 * folder with a `mod.ts`, loaded by a literal `import()` so that `deno compile` and `bun build --compile` include it).
 * Adding a runtime is one folder `adapters/<name>/` and one row here; nothing else names a runtime. Nothing here
 * touches a runtime API at import time.
 *
 * @module
 */

import type { RuntimePieces } from "./runtime_pieces.ts";

const g = globalThis as {
  Deno?: { version?: unknown; build?: { os?: string } };
  Bun?: unknown;
  process?: { platform?: string };
};

/**
 * The runtimes the adapters know: one per row of the table below.
 *
 * @example Usage
 * ```ts
 * import type { RuntimeKey } from "@x/cli-auth/adapters";
 * const key: RuntimeKey = "deno";
 * ```
 */
export type RuntimeKey = "deno" | "bun" | "node";

/** One runtime: its key, how to tell it runs this process, its OS name (read now), and its pieces (loaded lazily). */
interface RuntimeRow {
  readonly key: RuntimeKey;
  detect(): boolean;
  os(): string;
  load(): Promise<RuntimePieces>;
}

// In this order: Deno and Bun define `process` too, so Node (and anything else with `process`) comes last.
const RUNTIMES: readonly RuntimeRow[] = [
  {
    key: "deno",
    detect: () => typeof g.Deno === "object" && g.Deno !== null && Boolean(g.Deno.version),
    os: () => g.Deno?.build?.os ?? "",
    load: async () => (await import("./deno/mod.ts")).pieces,
  },
  {
    key: "bun",
    detect: () => typeof g.Bun === "object" && g.Bun !== null,
    os: () => g.process?.platform ?? "",
    load: async () => (await import("./bun/mod.ts")).pieces,
  },
  {
    key: "node",
    detect: () => true,
    os: () => g.process?.platform ?? "",
    load: async () => (await import("./node/mod.ts")).pieces,
  },
];

function row(key: RuntimeKey = detectRuntime()): RuntimeRow {
  return RUNTIMES.find((runtime) => runtime.key === key)!;
}

/**
 * Detects the runtime: the first row of the table whose test passes (Deno, then Bun, then Node).
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
  return RUNTIMES.find((runtime) => runtime.detect())!.key;
}

/**
 * What the running runtime calls the operating system (`Deno.build.os`, `process.platform`), read when called.
 *
 * @returns e.g. `"linux"`, `"darwin"`, `"windows"` or `"win32"`; `""` when it does not say
 */
export function runtimeOs(): string {
  return row().os();
}

const loaded = new Map<RuntimeKey, Promise<RuntimePieces>>();

/**
 * The pieces of a runtime (default: the running one), loaded once.
 *
 * @param key the runtime
 * @returns its pieces
 */
export function loadRuntime(key: RuntimeKey = detectRuntime()): Promise<RuntimePieces> {
  let pieces = loaded.get(key);
  if (!pieces) {
    pieces = row(key).load();
    loaded.set(key, pieces);
  }
  return pieces;
}
