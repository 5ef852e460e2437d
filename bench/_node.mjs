// Node 20 runs no TypeScript: this bundles a benchmark's .ts file with esbuild (a devDependency) into bench/.tmp/node/
// and runs it. Packages stay external (resolved from node_modules as usual); `import.meta.url` in each of our own
// files is replaced by that file's own URL, so paths such as `new URL("./provider_server.mjs", import.meta.url)`
// keep pointing where they did before bundling.
//
//   node bench/_node.mjs bench/fresh_token.ts [args…]       (what bench/run.ts does for the Node column)
import { mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const OUT = fileURLToPath(new URL("./.tmp/node/", import.meta.url));

// Spelled in parts so that this file, which is bundled too when a benchmark imports it, does not rewrite itself.
const IMPORT_META_URL = ["import", "meta", "url"].join(".");

/** Rewrites `import.meta.url` in our own sources (not in packages) to the source file's URL. */
const ownImportMetaUrl = {
  name: "own-import-meta-url",
  setup(build) {
    build.onLoad({ filter: /\.(ts|mjs)$/ }, (args) => {
      if (args.path.includes("/node_modules/")) return undefined;
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(IMPORT_META_URL)) return undefined;
      return {
        contents: source.replaceAll(IMPORT_META_URL, JSON.stringify(pathToFileURL(args.path).href)),
        loader: args.path.endsWith(".ts") ? "ts" : "js",
      };
    });
  },
};

/**
 * Bundles `file` (a path or file URL of a .ts file) for Node and returns the bundle's path.
 * @param {string | URL} file
 * @returns {Promise<string>}
 */
export async function bundleForNode(file) {
  const { build } = await import("esbuild");
  const input = typeof file === "string" ? file : fileURLToPath(file);
  mkdirSync(OUT, { recursive: true });
  const outfile = join(OUT, `${basename(input, ".ts")}.${process.pid}.mjs`);
  await build({
    entryPoints: [input],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
    plugins: [ownImportMetaUrl],
  });
  return outfile;
}

/**
 * Bundles `file` and imports it in this process.
 * @param {string | URL} file
 * @returns {Promise<void>}
 */
export async function runTs(file) {
  await import(pathToFileURL(await bundleForNode(file)).href);
}

// As a command: node bench/_node.mjs <file.ts> [args…]; the script sees its own arguments from argv[2] on.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, ...args] = process.argv.slice(2);
  if (!file) {
    console.error("usage: node bench/_node.mjs <file.ts> [args…]");
    process.exit(2);
  }
  const bundled = await bundleForNode(file);
  process.argv.splice(1, process.argv.length - 1, bundled, ...args);
  await import(pathToFileURL(bundled).href);
}
