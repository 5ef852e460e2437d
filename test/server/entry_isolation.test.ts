// jose is a dependency of the server entry only: importing @x/cli-auth (mod.ts, the CLI side) must load neither jose
// nor oauth4webapi (those load on first use, through literal dynamic import()s), while @x/cli-auth/server uses jose.
// Checked on the import graph a runtime loads at import time: static `import … from` / `export … from` statements,
// type-only ones left out (they are erased), dynamic `import()` not followed.
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;
const STATIC = /^\s*(?:import|export)\s+(?!type\b)(?:[^;"']*?\sfrom\s*)?["']([^"']+)["']/gm;

/** Every package a module loads at import time, with the chain of files that brings each in. */
function loadedPackages(entry: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set<string>();
  const visit = (file: string, chain: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const [, specifier] of source.matchAll(STATIC)) {
      if (specifier!.startsWith(".")) visit(join(dirname(file), specifier!), [...chain, relative(ROOT, file)]);
      else if (!specifier!.startsWith("node:") && !packages.has(specifier!)) packages.set(specifier!, [...chain, relative(ROOT, file)]);
    }
  };
  visit(join(ROOT, entry), []);
  return packages;
}

describe("what each entry loads at import time", () => {
  it("mod.ts (the CLI side) loads neither jose nor oauth4webapi", () => {
    const packages = loadedPackages("mod.ts");
    expect(Object.fromEntries([...packages].filter(([name]) => /^(jose|oauth4webapi)(\/|$)/.test(name)))).toEqual({});
  });

  it("server/mod.ts loads jose (so the check above can tell)", () => {
    expect([...loadedPackages("server/mod.ts").keys()]).toContain("jose");
  });
});
