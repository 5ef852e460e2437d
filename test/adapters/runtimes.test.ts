// The runtime table (adapters/runtimes.ts): detection in the order Deno, Bun, Node; each runtime's pieces loaded on
// first use by a literal import() of its folder; and no runtime named anywhere else in the adapters.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { currentOs, osName } from "../../adapters/os.ts";
import { detectRuntime, loadRuntime, runtimeOs } from "../../adapters/runtimes.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const g = globalThis as { Deno?: { build: { os: string } }; Bun?: unknown };

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("the runtime table", () => {
  it("detects the runtime running this test: Deno first, then Bun, then Node (both define process too)", () => {
    expect(detectRuntime()).toBe(g.Deno ? "deno" : g.Bun ? "bun" : "node");
  });

  it("loads each runtime's pieces once, with everything the adapters use", async () => {
    for (const key of ["deno", "bun", "node"] as const) {
      const pieces = await loadRuntime(key);
      expect(await loadRuntime(key)).toBe(pieces);
      expect(Object.keys(pieces).sort()).toEqual(
        ["env", "isTerminal", "listen", "readTextFile", "transport", "unrefTimer", "writeStderr"],
      );
      expect(Object.keys(pieces.transport).sort()).toEqual(["caVariable", "readsProxyEnv", "routedFetch"]);
    }
    expect((await loadRuntime("deno")).transport.caVariable).toBe("DENO_CERT");
    expect((await loadRuntime("node")).transport.readsProxyEnv).toBe(false);
  });

  it("reads the environment through the running runtime's pieces", async () => {
    const runtime = await loadRuntime();
    expect(runtime.env("PATH")).toBe(process.env.PATH);
    expect(runtime.env("CLI_AUTH_SURELY_UNSET_VARIABLE")).toBeUndefined();
  });

  it("names each runtime's folder by a literal import(), so compiled binaries include it", () => {
    const table = readFileSync(join(ROOT, "adapters/runtimes.ts"), "utf8");
    for (const key of ["deno", "bun", "node"]) expect(table).toContain(`import("./${key}/mod.ts")`);
  });

  it("is the only place outside the runtime folders that tells runtimes apart", () => {
    const outside = sources("adapters").filter((file) =>
      !/^adapters\/(runtimes\.ts|deno\/|bun\/|node\/)/.test(file) && file !== "adapters/mod.ts"
    );
    expect(outside.length).toBeGreaterThan(15);
    const branching = outside.filter((file) =>
      /detectRuntime\(\)|===\s*"(deno|bun|node)"|\b(Deno|Bun)\??\.(?!secrets)/.test(
        readFileSync(join(ROOT, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, ""),
      )
    );
    expect(branching).toEqual([]);
  });
});

describe("the OS detector (adapters/os.ts)", () => {
  it("names the OS the way the environment snapshot does, from any runtime's word for it", () => {
    expect(osName("darwin")).toBe("darwin");
    expect(osName("linux")).toBe("linux");
    expect(osName("win32")).toBe("windows");
    expect(osName("windows")).toBe("windows");
    expect(osName("freebsd")).toBe("other");
    expect(osName("")).toBe("other");
  });

  it("reads this machine's OS through the runtime table, when asked", () => {
    expect(runtimeOs()).toBe(g.Deno ? g.Deno.build.os : process.platform);
    expect(currentOs()).toBe(osName(process.platform));
  });
});
