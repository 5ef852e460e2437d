// Importing the library touches no runtime API: no static node:* import in the runtime code, and under Deno with no
// permissions at all, importing every entry point and constructing CliAuth, a platform and a verifier succeeds.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DENO, ROOT } from "./support/run_script.ts";

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("import time", () => {
  it("no library file imports a node:* module statically (type-only imports aside)", () => {
    const files = ["mod.ts", ...sources("src"), ...sources("adapters"), ...sources("server")];
    expect(files.length).toBeGreaterThan(40);
    const offending = files.filter((file) =>
      /^\s*import\s+(?!type\b)[^;]*from\s*["']node:/m.test(readFileSync(join(ROOT, file), "utf8"))
    );
    expect(offending).toEqual([]);
  });

  it("imports and constructs under Deno with no permissions", () => {
    const result = spawnSync(DENO, ["run", "--no-prompt", "--quiet", "test/fixtures/import_only.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("imported");
    expect(result.status).toBe(0);
  });
});
