// Bundle size: what a CLI that bundles its dependencies (esbuild, `bun build`, `deno compile`) carries for its
// sign-in library. Each entry re-exports a library's whole entry point (`export * from "…"`), bundled for a
// server-side runtime (platform/target "node": Node built-ins stay external, nothing is shimmed for a web browser),
// minified, then gzipped (zlib, default level). Twice: all dependencies bundled, and with `oauth4webapi` external
// (what the library adds on top of that shared protocol layer). The sizes do not depend on the runtime, so
// bench/run.ts runs this once, on Node:
//
//   node bench/run.mjs        or        npx deno run -A bench/bundle_size.ts
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { emit, progress, ROOT, runtimeKey } from "./_support.ts";

const dir = join(ROOT, "bench/.tmp/bundle");
mkdirSync(dir, { recursive: true });
const BUN = join(ROOT, "node_modules/.bin/bun");

const version = (name: string) => {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version as string;
  } catch {
    return "?";
  }
};

interface Entry {
  key: string;
  label: string;
  version?: string;
  source: string;
  reference?: boolean;
}

const ours = JSON.stringify(join(ROOT, "mod.ts"));
const entries: Entry[] = [
  {
    key: "ours",
    label: "@x/cli-auth (mod.ts)",
    version: JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version,
    source: `export * from ${ours};\n`,
  },
  {
    key: "ours-cliauth",
    label: "@x/cli-auth, CliAuth only",
    source: `export { CliAuth } from ${ours};\n`,
    reference: true,
  },
  { key: "oauth4webapi", label: "oauth4webapi", version: version("oauth4webapi"), source: `export * from "oauth4webapi";\n`, reference: true },
  ...["openid-client", "@azure/msal-node", "oauth-callback"].map((name) => ({
    key: name,
    label: name,
    version: version(name),
    source: `export * from ${JSON.stringify(name)};\n`,
  })),
];

interface Size {
  minified: number;
  gzipped: number;
}

const sizeOf = (bytes: Uint8Array): Size => ({ minified: bytes.byteLength, gzipped: gzipSync(bytes).byteLength });

async function esbuildSize(file: string, external: string[]): Promise<Size> {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    minify: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "es2022",
    external,
    absWorkingDir: ROOT,
    logLevel: "silent",
  });
  return sizeOf(result.outputFiles[0]!.contents);
}

function bunSize(file: string, external: string[]): Size | null {
  const outfile = file.replace(/\.mjs$/, `.bun${external.length ? "-ext" : ""}.js`);
  const args = ["build", file, "--minify", "--target=node", "--format=esm", `--outfile=${outfile}`];
  for (const name of external) args.push(`--external=${name}`);
  const result = spawnSync(BUN, args, { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) {
    progress(`bun build ${file} failed: ${result.stderr}`);
    return null;
  }
  return sizeOf(readFileSync(outfile));
}

/**
 * Where our own minified bytes come from (esbuild's metafile, oauth4webapi external), by folder, and the largest
 * files: the "why" beside the totals.
 */
async function ourParts(): Promise<{ byFolder: Record<string, number>; largestFiles: [string, number][] }> {
  const result = await build({
    entryPoints: [join(ROOT, "mod.ts")],
    bundle: true,
    minify: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "node",
    target: "es2022",
    external: ["oauth4webapi"],
    absWorkingDir: ROOT,
    logLevel: "silent",
  });
  const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
  const files = Object.entries(inputs).map(([path, { bytesInOutput }]) => [path, bytesInOutput] as [string, number]);
  const byFolder: Record<string, number> = {};
  for (const [path, bytes] of files) {
    const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : path;
    byFolder[folder] = (byFolder[folder] ?? 0) + bytes;
  }
  return { byFolder, largestFiles: files.sort((a, b) => b[1] - a[1]).slice(0, 8) };
}

progress(`bundle size: ${entries.length} entries, esbuild and bun build`);
const rows = [];
for (const entry of entries) {
  const file = join(dir, `${entry.key.replace(/[@/]/g, "_")}.mjs`);
  writeFileSync(file, entry.source);
  rows.push({
    key: entry.key,
    label: entry.label,
    version: entry.version,
    reference: entry.reference ?? false,
    esbuild: await esbuildSize(file, []),
    esbuildWithoutOauth4webapi: await esbuildSize(file, ["oauth4webapi"]),
    bunBuild: bunSize(file, []),
    bunBuildWithoutOauth4webapi: bunSize(file, ["oauth4webapi"]),
  });
}

emit({
  benchmark: "bundle_size",
  runtime: runtimeKey(),
  method: "export * from <entry>; minified ESM for platform/target node (built-ins external); gzip = zlib default level",
  esbuildVersion: version("esbuild"),
  bunVersion: version("bun"),
  rows,
  ours: await ourParts(),
});
