// The storage adapters load Node built-ins only when used (a static node:* import costs ~15 ms on Deno at startup),
// and each keychain backend file is reachable by a literal import so compiled binaries include it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../..", import.meta.url).pathname;
const files = [
  "adapters/lock.ts",
  ...readdirSync(join(root, "adapters/keychain")).map((f) => `adapters/keychain/${f}`),
  ...readdirSync(join(root, "adapters/storage")).map((f) => `adapters/storage/${f}`),
];

describe("storage adapters", () => {
  it("have no static import of a node:* module", () => {
    expect(files.length).toBeGreaterThan(10);
    const offending = files.filter((file) =>
      /^\s*import\s[^;]*from\s*["']node:/m.test(readFileSync(join(root, file), "utf8"))
    );
    expect(offending).toEqual([]);
  });

  it("import every keychain backend by a literal path from keychain/mod.ts, on first use", () => {
    const source = readFileSync(join(root, "adapters/keychain/mod.ts"), "utf8");
    for (const backend of ["macos", "linux", "windows", "bun_secrets"]) {
      expect(source).toContain(`import("./${backend}.ts")`);
      expect(source).not.toMatch(new RegExp(`^import (?!type\\b)[^;]*from "\\./${backend}\\.ts"`, "m"));
    }
  });
});
