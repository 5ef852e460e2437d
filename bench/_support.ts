// Helpers shared by the benchmarks (the `_` prefix: not a benchmark itself). Every benchmark runs on Deno, Bun and
// Node alike, measures the runtime it runs on, prints progress on stderr and ends with one line on stdout:
// `BENCH_RESULT {json}`, which bench/run.ts collects into the tables and bench/results.json.
import { fileURLToPath } from "node:url";
import { type RuntimeKey, runtimeKey, runtimeName } from "../test/support/runtime.ts";

export { type RuntimeKey, runtimeKey, runtimeName };

/** The repository root (absolute, with a trailing slash). */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The marker of the result line on stdout. */
export const RESULT_MARKER = "BENCH_RESULT ";

/** Prints the benchmark's result for bench/run.ts (and for a person running the file alone). */
export function emit(result: unknown): void {
  console.log(`${RESULT_MARKER}${JSON.stringify(result)}`);
}

/** Progress for the person watching; never parsed. */
export function progress(message: string): void {
  console.error(`[${runtimeKey()}] ${message}`);
}

/** The value below which `p` of the sorted samples lie (nearest rank). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median (mean of the two middle samples for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Rounds to `digits` decimals (for JSON that people read). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A temporary folder, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The stores the fresh-token and refresh benchmarks use. */
export type StoreKind = "memory" | "file" | "keychain";

/**
 * A Secret Service for the keychain lines, never the user's own: bench/run.ts starts a private one
 * (test/support/keyring.ts) and hands its bus to every benchmark with BENCH_PRIVATE_KEYRING=1, so that the store
 * sees it as a CLI would (in its process environment, which is what Bun.secrets reads). A benchmark run alone
 * starts its own and passes it to keychainStore() as `env`, which means secret-tool even on Bun.
 */
export async function privateKeyring(): Promise<{ env?: Record<string, string>; note: string; stop(): Promise<void> }> {
  const { default: process } = await import("node:process");
  if (process.env.BENCH_PRIVATE_KEYRING === "1" && process.env.DBUS_SESSION_BUS_ADDRESS) {
    return { note: "private gnome-keyring from the environment", stop: () => Promise.resolve() };
  }
  const { startKeyring } = await import("../test/support/keyring.ts");
  const keyring = await startKeyring();
  return { env: keyring.env, note: "private gnome-keyring passed as env (secret-tool)", stop: () => keyring.stop() };
}

/**
 * The command that runs the benchmark file `file` (absolute path of a .ts file) on `runtime`: directly on Deno
 * and Bun; on Node, bundled first by bench/_node.mjs (in this process, so the child starts at once).
 */
export async function commandFor(file: string, runtime: RuntimeKey): Promise<[string, string[]]> {
  const { join } = await import("node:path");
  const bin = (name: string) => join(ROOT, "node_modules/.bin", name);
  if (runtime === "deno") return [bin("deno"), ["run", "-A", "--quiet", file]];
  if (runtime === "bun") return [bin("bun"), [file]];
  const { bundleForNode } = await import("./_node.mjs");
  const { NODE } = await import("../test/support/provider.ts");
  return [NODE, [await bundleForNode(file)]];
}
