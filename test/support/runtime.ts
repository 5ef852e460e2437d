// Which runtime runs this test process (tests may name runtimes; the library detects them in adapters/).
const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };

export type RuntimeKey = "deno" | "bun" | "node";

export function runtimeKey(): RuntimeKey {
  if (g.Deno) return "deno";
  if (g.Bun) return "bun";
  return "node";
}

export function runtimeName(): string {
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${process.versions.node}`;
}
