// jose is a dependency of the server entry only: importing @x/cli-auth (mod.ts, the CLI side) must load neither jose
// nor oauth4webapi (those load on first use, through literal dynamic import()s), while @x/cli-auth/server uses jose.
// Checked on the import graph a runtime loads at import time: static `import … from` / `export … from` statements,
// type-only ones left out (they are erased), dynamic `import()` not followed.
import { readdirSync, readFileSync } from "node:fs";
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

// The server's own layout: the public modules are the ones server/mod.ts re-exports from; every other module says it
// is internal by its `_` name; and no two modules import each other, even for types only (a cycle of types is still
// a knot to untie for the next reader).
const ANY_IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

function serverModules(): string[] {
  return readdirSync(join(ROOT, "server")).filter((name) => name.endsWith(".ts")).sort();
}

/** The server modules a module imports (static, type-only and literal dynamic imports alike). */
function serverImports(name: string): string[] {
  const source = readFileSync(join(ROOT, "server", name), "utf8");
  return [...source.matchAll(ANY_IMPORT)]
    .map((match) => match[1] ?? match[2]!)
    .filter((specifier) => /^\.\/[^/]+\.ts$/.test(specifier))
    .map((specifier) => specifier.slice(2));
}

describe("server/'s module graph", () => {
  it("has no import cycle, type-only imports included", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const path: string[] = [];
    const visit = (name: string) => {
      state.set(name, "open");
      path.push(name);
      for (const next of serverImports(name)) {
        if (state.get(next) === "open") cycles.push([...path.slice(path.indexOf(next)), next].join(" -> "));
        else if (!state.has(next)) visit(next);
      }
      path.pop();
      state.set(name, "done");
    };
    for (const name of serverModules()) if (!state.has(name)) visit(name);
    expect(cycles).toEqual([]);
  });

  it("names every module that server/mod.ts does not re-export from _*.ts, and re-exports from none of those", () => {
    const reexported = new Set(serverImports("mod.ts"));
    const misnamed = serverModules()
      .filter((name) => name !== "mod.ts")
      .filter((name) => name.startsWith("_") === reexported.has(name));
    expect(misnamed).toEqual([]);
  });
});
