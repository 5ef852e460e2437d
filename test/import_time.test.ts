// Importing the library touches no runtime API: no static node:* import in the runtime code, and under Deno with no
// permissions at all, importing every entry point and constructing CliAuth, a platform and a verifier succeeds. And
// `undici` (Node's proxy and CA support) loads only for a request that goes through a proxy or trusts extra CAs.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { DENO, ROOT, scriptCommand } from "./support/run_script.ts";

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

describe("what importing @x/cli-auth loads", () => {
  // Static value imports only (type-only imports are erased; literal import()s run on first use).
  const STATIC = /^\s*(?:import|export)\s+(?!type\b)(?:[^;"']*?\sfrom\s*)?["']([^"']+)["']/gm;
  function loadedAtImport(entry: string): string[] {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, specifier] of readFileSync(join(ROOT, file), "utf8").matchAll(STATIC)) {
        if (specifier!.startsWith(".")) visit(join(dirname(file), specifier!));
      }
    };
    visit(entry);
    return [...seen].sort();
  }

  it("is the facade, its options and name rules, and the error class: six small modules, nothing of the runtime", () => {
    expect(loadedAtImport("mod.ts")).toEqual([
      "mod.ts",
      "src/cli_auth.ts",
      "src/common/errors.ts",
      "src/common/printable.ts",
      "src/names.ts",
      "src/options.ts",
    ]);
  });
});

describe("undici (Node's proxy support)", () => {
  it("is imported by adapters/node/transport.ts alone, lazily, by a literal path", () => {
    const files = ["mod.ts", ...sources("src"), ...sources("adapters"), ...sources("server")];
    const importing = files.filter((file) => /["']undici["']/.test(readFileSync(join(ROOT, file), "utf8")));
    expect(importing).toEqual(["adapters/node/transport.ts"]);
    const source = readFileSync(join(ROOT, "adapters/node/transport.ts"), "utf8");
    expect(source).toContain('import("undici")');
    expect(source).not.toMatch(/^import (?!type\b)[^;]*from "undici"/m);
  });

  it("is not loaded on Node by importing the library, nor by a request without proxy or CA; a proxied one loads it", async () => {
    // Node itself, also under `bun --bun` (whose `node` on PATH is Bun).
    const [, args] = await scriptCommand(join(ROOT, "test/fixtures/undici_loaded.ts"), "node");
    const node = (process.env.PATH ?? "").split(":").filter((dir) => !/bun-node-/.test(dir)).map((dir) => join(dir, "node"))
      .find((path) => existsSync(path))!;
    const env: Record<string, string | undefined> = { ...process.env, HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9" };
    delete env.NO_PROXY;
    delete env.no_proxy;
    const result = spawnSync(node, args, { cwd: ROOT, env, encoding: "utf8", timeout: 30_000 });
    expect(JSON.parse(result.stdout), result.stderr).toEqual({
      afterImport: false,
      direct: "CliAuthError",
      afterDirectRequest: false,
      proxied: "CliAuthError",
      afterProxiedRequest: true,
    });
  });
});
