// ARCHITECTURE.md stays true and short: every folder it names exists, every source folder is named in it, and it
// keeps under 250 lines.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("..", import.meta.url).pathname;
const text = readFileSync(join(ROOT, "ARCHITECTURE.md"), "utf8");

function folders(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    return statSync(join(ROOT, path)).isDirectory() ? [`${path}/`, ...folders(path)] : [];
  });
}

describe("ARCHITECTURE.md", () => {
  it("names only folders and files that exist", () => {
    const named = [...new Set([...text.matchAll(/`((?:src|adapters|server|test|bench|examples)\/[\w/.]*)`/g)].map((m) => m[1]!))];
    expect(named.length).toBeGreaterThan(40);
    expect(named.filter((path) => !existsSync(join(ROOT, path.replace(/<[^>]*>/g, ""))))).toEqual([]);
  });

  it("names every folder of src/, adapters/ and server/", () => {
    const all = ["src/", "adapters/", "server/", ...folders("src"), ...folders("adapters"), ...folders("server")];
    expect(all.filter((folder) => !text.includes(`\`${folder}`))).toEqual([]);
  });

  it("stays under 250 lines", () => {
    expect(text.split("\n").length).toBeLessThan(250);
  });
});
