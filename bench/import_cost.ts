// Import cost: wall time and peak memory (RSS) of a process that imports a library and exits, beside an empty script
// (the floor) and beside the peers a CLI author would pick instead. Measures the runtime it runs on:
//
//   npx deno run -A bench/import_cost.ts
//   npx bun bench/import_cost.ts
//   npm run build && node bench/run.mjs        (Node runs it through the runner; it imports the built dist/mod.js)
//
// Method: every command is spawned WARMUP times first (Deno caches its transpiled TypeScript), then RUNS rounds. In a
// round every command runs right after a run of the floor (wall time, measured around a synchronous spawn), and once
// more under /usr/bin/time (peak RSS, GNU time's %M, in KiB), the order of the commands rotating from round to round.
// The ratio and the milliseconds added are the medians of each run against the floor run just before it: on a shared
// machine whose load drifts, a pair a few milliseconds apart sees the same load, where separate medians may not.
// Reported: median wall time, minimum, median paired ratio and difference, median peak RSS.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { emit, median, percentile, progress, ROOT, round, runtimeKey, runtimeName } from "./_support.ts";

const WARMUP = 3;
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 20);
const TIME = "/usr/bin/time";

const runtime = runtimeKey();
const exe = process.execPath;
const dir = join(ROOT, "bench/.tmp/import");
mkdirSync(dir, { recursive: true });

const packageVersion = (name: string): string => {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
};

interface Command {
  key: string;
  label: string;
  version?: string;
  args: string[];
  /** A reference row (not a peer, not the floor). */
  reference?: boolean;
  /** Environment variables for this command only. */
  env?: Record<string, string>;
}

const scriptArgs = (file: string) => (runtime === "deno" ? ["run", "-A", "--quiet", file] : [file]);
const entry = (key: string, source: string): string => {
  const file = join(dir, `${key}.mjs`);
  writeFileSync(file, source);
  return file;
};

// Node has no TypeScript: it loads what the package ships, dist/mod.js. Deno and Bun load mod.ts, as their
// users do (`jsr:` / the "bun" export condition).
const ours = runtime === "node" ? join(ROOT, "dist/mod.js") : join(ROOT, "mod.ts");
if (!existsSync(ours)) {
  console.error(`${ours} is missing: run \`npm run build\` first`);
  process.exit(1);
}

// How near one file would bring us: mod.ts bundled by esbuild into a single module, oauth4webapi left external (a
// reference row, not what we ship: it shows what module count and TypeScript loading cost on each runtime).
async function bundledOurs(): Promise<string | undefined> {
  try {
    const { build } = await import("esbuild");
    const outfile = join(dir, "ours_bundled.mjs");
    await build({
      entryPoints: [join(ROOT, "mod.ts")],
      outfile,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "es2022",
      external: ["oauth4webapi"],
      logLevel: "silent",
    });
    return outfile;
  } catch (error) {
    progress(`no bundled reference row: ${(error as Error).message}`);
    return undefined;
  }
}
const bundled = await bundledOurs();

const peers = ["openid-client", "@azure/msal-node", "oauth-callback"];
const commands: Command[] = [
  { key: "floor", label: "empty script (floor)", args: scriptArgs(entry("floor", "")) },
  {
    key: "eval",
    label: runtime === "deno" ? "deno eval 0" : `${runtime} -e 0`,
    args: runtime === "deno" ? ["eval", "0"] : ["-e", "0"],
    reference: true,
  },
  // What importing anything at all costs: one module of one line. On Bun here this alone is several ms over the
  // empty script, a cost no library can go under; the goal lines show ours beside it.
  {
    key: "one-line",
    label: "a one-line module (reference)",
    args: scriptArgs(entry("one_line", `import ${JSON.stringify(new URL(`file://${entry("one_line_module", "export const x = 1;\n")}`).href)};\n`)),
    reference: true,
  },
  {
    key: "ours",
    label: "@x/cli-auth",
    version: JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version,
    args: scriptArgs(entry("ours", `import ${JSON.stringify(new URL(`file://${ours}`).href)};\n`)),
  },
  // Deno reads every module a literal import() can reach before it runs anything; a Deno program may opt out with
  // `"unstable": ["lazy-dynamic-imports"]` in its deno.json (the same as this flag). Ours with it, for reference.
  ...(runtime === "deno"
    ? [{
      key: "ours-lazy",
      label: "@x/cli-auth, lazy dynamic imports",
      args: ["run", "-A", "--quiet", "--unstable-lazy-dynamic-imports", join(dir, "ours.mjs")],
      reference: true,
      // Its own cache folder: alternating runs with and without the flag in one DENO_DIR slow the rows without it.
      env: { DENO_DIR: join(dir, "deno_dir_lazy") },
    }]
    : []),
  ...(bundled
    ? [{ key: "ours-bundled", label: "@x/cli-auth as one file (reference)", args: scriptArgs(bundled), reference: true }]
    : []),
  {
    key: "oauth4webapi",
    label: "oauth4webapi (our one dependency)",
    version: packageVersion("oauth4webapi"),
    args: scriptArgs(entry("oauth4webapi", `import "oauth4webapi";\n`)),
    reference: true,
  },
  ...peers.map((name) => ({
    key: name,
    label: name,
    version: packageVersion(name),
    args: scriptArgs(entry(name.replace(/[@/]/g, "_"), `import ${JSON.stringify(name)};\n`)),
  })),
];

const haveTime = existsSync(TIME);
const rssFile = join(dir, `rss-${process.pid}.txt`);

function run(command: Command, withTime: boolean): { ms: number; rssKb?: number } {
  const [file, args] = withTime ? [TIME, ["-f", "%M", "-o", rssFile, exe, ...command.args]] : [exe, command.args];
  const started = performance.now();
  const env = command.env ? { ...process.env, ...command.env } : undefined;
  const result = spawnSync(file, args, { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = performance.now() - started;
  if (result.status !== 0) {
    throw new Error(`${command.label} exited with ${result.status ?? result.signal}: ${result.stderr || result.error}`);
  }
  if (!withTime) return { ms };
  const rssKb = Number(readFileSync(rssFile, "utf8").trim().split("\n").at(-1));
  return { ms, rssKb };
}

const load = [loadavg()[0]!];
progress(`import cost: ${commands.length} commands, ${WARMUP} warm-up + ${RUNS} runs each`);
for (const command of commands) for (let i = 0; i < WARMUP; i++) run(command, false);

const times = commands.map(() => [] as number[]);
const ratios = commands.map(() => [] as number[]);
const added = commands.map(() => [] as number[]);
const rss = commands.map(() => [] as number[]);
for (let round = 0; round < RUNS; round++) {
  for (let k = 0; k < commands.length; k++) {
    const index = (k + round) % commands.length;
    if (index !== 0) {
      const floorMs = run(commands[0]!, false).ms;
      const ms = run(commands[index]!, false).ms;
      times[0]!.push(floorMs);
      times[index]!.push(ms);
      ratios[index]!.push(ms / floorMs);
      added[index]!.push(ms - floorMs);
    }
    if (haveTime) rss[index]!.push(run(commands[index]!, true).rssKb!);
  }
}
load.push(loadavg()[0]!);
rmSync(rssFile, { force: true });

const floorRss = median(rss[0]!);
emit({
  benchmark: "import_cost",
  runtime,
  runtimeVersion: runtimeName(),
  runs: RUNS,
  warmup: WARMUP,
  memoryMethod: haveTime ? "/usr/bin/time -f %M (peak RSS of the child, KiB)" : "none (/usr/bin/time is missing)",
  loadAverage: load.map((l) => round(l)),
  rows: commands.map((command, i) => {
    const ms = median(times[i]!);
    const kb = median(rss[i]!);
    return {
      key: command.key,
      label: command.label,
      version: command.version,
      reference: command.reference ?? false,
      command: [runtime, ...command.args.map((a) => a.replace(ROOT, ""))].join(" "),
      medianMs: round(ms),
      minMs: round(Math.min(...times[i]!)),
      p25Ms: round(percentile(times[i]!, 25)),
      p75Ms: round(percentile(times[i]!, 75)),
      ratio: i === 0 ? 1 : round(median(ratios[i]!), 3),
      addedMs: i === 0 ? 0 : round(median(added[i]!)),
      rssMb: haveTime ? round(kb / 1024, 1) : null,
      addedRssMb: haveTime ? round((kb - floorRss) / 1024, 1) : null,
    };
  }),
});
