// Which runtime runs this test process: the library's own table (adapters/runtimes.ts) says, so that a new runtime is
// one row there and nothing here.
import { detectRuntime, type RuntimeKey } from "../../adapters/runtimes.ts";

export type { RuntimeKey };

export function runtimeKey(): RuntimeKey {
  return detectRuntime();
}

export function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${process.versions.node}`;
}
