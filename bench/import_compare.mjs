// Import cost of a few modules against each other, each run paired with an empty script run just before it (the
// method of import_cost.ts, without the peers): for questions such as "did this branch make importing us dearer on
// Deno?" or "what do the lazily imported modules cost Deno at start-up?". Prints the median milliseconds added.
//
//   node bench/import_compare.mjs deno /path/a/mod.ts /path/b/mod.ts    (also: bun; ROUNDS=40 by default)
//   DENO_FLAGS=--unstable-lazy-dynamic-imports node bench/import_compare.mjs deno mod.ts
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [runtime, ...modules] = process.argv.slice(2);
if (!["bun", "deno"].includes(runtime ?? "") || modules.length === 0) {
  console.error("usage: node bench/import_compare.mjs <bun|deno> <module> [<module> ...]");
  process.exit(2);
}
const rounds = Number(process.env.ROUNDS ?? 40);
const exe = join(import.meta.dirname, "..", "node_modules", ".bin", runtime);
const flags = (process.env.DENO_FLAGS ?? "").split(" ").filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), "import-compare-"));
const script = (name, source) => {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, source);
  return file;
};
const floor = script("floor", "");
const entries = modules.map((m, i) => script(`m${i}`, `import ${JSON.stringify(pathToFileURL(resolve(m)).href)};\n`));
const args = (file) => (runtime === "deno" ? ["run", "-A", "--quiet", ...flags, file] : [file]);
const run = (file) => {
  const started = performance.now();
  const result = spawnSync(exe, args(file), { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${file}: ${result.stderr}`);
  return performance.now() - started;
};
for (let i = 0; i < 3; i++) entries.forEach(run);
const added = entries.map(() => []);
for (let i = 0; i < rounds; i++) entries.forEach((entry, k) => added[k].push(-run(floor) + run(entry)));
const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
modules.forEach((m, k) => console.log(`${m.padEnd(60)} +${median(added[k]).toFixed(1)} ms`));
