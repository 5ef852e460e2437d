// Runs a TypeScript file of the tests in a child process on a chosen runtime: Deno and Bun run it directly; Node 20
// cannot strip types, so the file is bundled with esbuild first (dependencies stay external, resolved from
// node_modules as usual).
import { spawn } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RuntimeKey, runtimeKey } from "./runtime.ts";
import { NODE } from "./provider.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DENO = join(ROOT, "node_modules/.bin/deno");
export const BUN = join(ROOT, "node_modules/.bin/bun");

const bundles = new Map<string, Promise<string>>();

async function bundleForNode(file: string): Promise<string> {
  const key = `${file}:${statSync(file).mtimeMs}`;
  let pending = bundles.get(key);
  if (!pending) {
    pending = (async () => {
      const { build } = await import("esbuild");
      // Inside the repository, so that external packages resolve from its node_modules.
      const dir = join(ROOT, "node_modules/.cache/cli-auth-test", String(process.pid));
      mkdirSync(dir, { recursive: true });
      const outfile = join(dir, `${basename(file, ".ts")}-${bundles.size}.mjs`);
      await build({
        entryPoints: [file],
        outfile,
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        packages: "external",
        absWorkingDir: ROOT,
        logLevel: "silent",
        banner: { js: `import { createRequire as __cr } from "node:module"; const require = __cr(${JSON.stringify(join(ROOT, "package.json"))});` },
      });
      return outfile;
    })();
    bundles.set(key, pending);
  }
  return await pending;
}

/** The command line that runs `file` (absolute path to a .ts file) on `runtime`. */
export async function scriptCommand(file: string, runtime: RuntimeKey = runtimeKey()): Promise<[string, string[]]> {
  switch (runtime) {
    case "deno":
      return [DENO, ["run", "-A", "--quiet", file]];
    case "bun":
      return [BUN, [file]];
    default:
      return [NODE, [await bundleForNode(file)]];
  }
}

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from start to exit. */
  elapsedMs: number;
}

export interface RunScriptOptions {
  runtime?: RuntimeKey;
  args?: string[];
  env?: Record<string, string | undefined>;
  stdin?: string;
  timeoutMs?: number;
  /** Called with each stderr chunk as it arrives (e.g. to read a device code and approve it). */
  onStderr?: (chunk: string, all: string, stdin: import("node:stream").Writable) => void;
  onStdout?: (chunk: string, all: string, stdin: import("node:stream").Writable) => void;
  /** Keep stdin open (write to it from onStderr/onStdout); it is closed when the script exits. */
  keepStdinOpen?: boolean;
}

/** Runs a test script to its end; rejects if it runs longer than `timeoutMs`. */
export async function runScript(file: string, options: RunScriptOptions = {}): Promise<ScriptResult> {
  const [command, baseArgs] = await scriptCommand(file, options.runtime);
  const started = performance.now();
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...options.env })) if (value !== undefined) env[key] = value;
  return await new Promise<ScriptResult>((resolve, reject) => {
    const child = spawn(command, [...baseArgs, ...(options.args ?? [])], { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${basename(file)} ran longer than ${options.timeoutMs ?? 60_000} ms\nstdout:${stdout}\nstderr:${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(chunk, stdout, child.stdin);
    });
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk, stderr, child.stdin);
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, elapsedMs: performance.now() - started });
    });
    child.stdin.on("error", () => {});
    if (options.stdin !== undefined) child.stdin.end(options.stdin);
    else if (!options.keepStdinOpen) child.stdin.end();
  });
}
