// The core (src/) and the server entry (server/) touch only Web APIs: no runtime names, no node:* imports.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("core purity", () => {
  for (const dir of ["src", "server"]) {
    it(`${dir}/ names no runtime and imports no node:* module`, () => {
      const files = sources(dir);
      expect(files.length).toBeGreaterThan(0);
      // Every subfolder is covered (src/common/, src/protocol/, … and any added later).
      const subfolders = readdirSync(join(root, dir)).filter((name) => statSync(join(root, dir, name)).isDirectory());
      for (const folder of subfolders) expect(files.some((file) => file.startsWith(`${dir}/${folder}/`)), folder).toBe(true);
      const offending = files.filter((file) => /\b(Deno|Bun)\.|\bprocess\.|node:/.test(readFileSync(join(root, file), "utf8")));
      expect(offending).toEqual([]);
    });
  }
});
