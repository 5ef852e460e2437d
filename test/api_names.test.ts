// Every name the contract (API.md, kept beside the repository in ../shared/) promises is still there: the names its
// examples import from each entry, the pieces its "Sub-paths" list names, the methods its `auth.…` lines call, and its
// error codes. Read from API.md itself, so that a name added to the contract is checked without editing this test.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliAuth } from "../mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const ENTRIES: Record<string, string> = {
  "@x/cli-auth": "mod.ts",
  "@x/cli-auth/protocol": "src/mod.ts",
  "@x/cli-auth/adapters": "adapters/mod.ts",
  "@x/cli-auth/server": "server/mod.ts",
};

// The contract's home is ../shared/API.md beside the repository (or beside a worktree one level deeper). A fresh
// clone (CI) has no ../shared/, so a copy is kept in test/fixtures/API.md; where both exist they must be the same,
// so the copy cannot drift from the contract unseen.
const SHARED = ["../shared/API.md", "../../shared/API.md"].map((path) => join(ROOT, path)).find(existsSync);
const COPY = join(ROOT, "test/fixtures/API.md");
const CONTRACT = SHARED ?? (existsSync(COPY) ? COPY : undefined);

/** The names an entry exports (values and types), read from its source. */
function exportsOf(entry: string): Set<string> {
  const source = readFileSync(join(ROOT, entry), "utf8");
  const names = new Set<string>();
  for (const [, list] of source.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const item of list!.split(",").map((s) => s.trim().replace(/^type\s+/, "")).filter(Boolean)) {
      names.add(item.split(/\s+as\s+/).at(-1)!.trim());
    }
  }
  for (const [, name] of source.matchAll(/^export\s+(?:async\s+)?(?:function|class|const|interface|type)\s+(\w+)/gm)) {
    names.add(name!);
  }
  return names;
}

/** The text of the `## <title>` section (up to the next `## `). */
function section(text: string, title: string): string {
  const start = text.indexOf(`\n## ${title}`);
  expect(start, `API.md has a section "${title}"`).toBeGreaterThan(-1);
  const end = text.indexOf("\n## ", start + 1);
  return text.slice(start, end === -1 ? undefined : end);
}

describe("the names API.md promises", () => {
  const contract = CONTRACT ? readFileSync(CONTRACT, "utf8") : "";

  it("API.md is found beside the repository, and the copy in test/fixtures/ is the same", () => {
    expect(CONTRACT, "API.md in ../shared/ or test/fixtures/").toBeDefined();
    if (SHARED) expect(readFileSync(COPY, "utf8"), "test/fixtures/API.md differs from ../shared/API.md: copy it over").toBe(contract);
  });

  it("every name its examples import is exported by that entry", () => {
    const imports = [...contract.matchAll(/import\s*\{([^}]*)\}\s*from\s*"(@x\/cli-auth[^"]*)"/g)];
    expect(imports.length).toBeGreaterThanOrEqual(2);
    const missing: string[] = [];
    for (const [, list, entry] of imports) {
      expect(Object.keys(ENTRIES), entry).toContain(entry);
      const exported = exportsOf(ENTRIES[entry!]!);
      for (const name of list!.split(",").map((s) => s.trim().replace(/^type\s+/, "")).filter(Boolean)) {
        if (!exported.has(name)) missing.push(`${entry} ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("every piece its Sub-paths list names is exported by that entry, and `TokenSet` by the main one", () => {
    // A bullet goes on over the indented lines that follow it.
    const lines = section(contract, "Sub-paths").replace(/\n {2,}/g, " ").split("\n").filter((line) => line.startsWith("- `@x/cli-auth/"));
    expect(lines.length).toBe(2);
    const missing: string[] = [];
    for (const line of lines) {
      const entry = /^- `([^`]+)`/.exec(line)![1]!;
      // Parenthesised asides name an interface's methods or the runtimes, not exports.
      const names = [...line.replace(/\([^)]*\)/g, "").matchAll(/`([A-Za-z]\w*)`/g)].map((m) => m[1]!);
      expect(names.length, entry).toBeGreaterThan(4);
      const exported = exportsOf(ENTRIES[entry]!);
      for (const name of names) if (!exported.has(name)) missing.push(`${entry} ${name}`);
    }
    if (/`TokenSet`/.test(contract) && !exportsOf("mod.ts").has("TokenSet")) missing.push("@x/cli-auth TokenSet");
    expect(missing).toEqual([]);
  });

  it("every method its `auth.…` lines call is a method of CliAuth", () => {
    const methods = [...new Set([...section(contract, "`mod.ts`").matchAll(/\bauth\.(\w+)\(/g)].map((m) => m[1]!))];
    expect(methods).toEqual(expect.arrayContaining(["login", "getAccessToken", "logout", "fetch"]));
    expect(methods.filter((name) => typeof (CliAuth.prototype as unknown as Record<string, unknown>)[name] !== "function")).toEqual([]);
  });

  it("every error code it lists is a CliAuthErrorCode", () => {
    const codes = [...section(contract, "Errors").matchAll(/`([a-z]+(?:_[a-z]+)+)`/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(15);
    const union = readFileSync(join(ROOT, "src/common/errors.ts"), "utf8");
    expect(codes.filter((code) => !union.includes(`| "${code}"`))).toEqual([]);
  });
});
