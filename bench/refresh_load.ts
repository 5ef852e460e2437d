// Refresh under load, on an expiring session (the access token expires within the 30 s refresh skew) kept in the file
// store, against the local provider with rotating refresh tokens and reuse detection (a second refresh with the old
// token fails and revokes the grant, so a race cannot hide):
//   - 100 concurrent getAccessToken() calls in one process: single-flight;
//   - 8 processes calling getAccessToken() at once (started and ready first; the clock runs from "go" to the last
//     answer): the cross-process lock, then a re-read of the store.
// Refresh requests are counted by the provider (must be 1 per round); every caller must get the same new token.
// Everything as shipped: `storage: "file"` and the default platform's lock, their folders (XDG_CONFIG_HOME,
// XDG_RUNTIME_DIR) in a temp folder.
//
//   npx deno run -A bench/refresh_load.ts      npx bun bench/refresh_load.ts      node bench/run.mjs (all runtimes)
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { fileStore } from "../adapters/mod.ts";
import { CliAuth } from "../mod.ts";
import { loginWithoutBrowser } from "../test/support/login.ts";
import { startProvider } from "../test/support/provider.ts";
import { commandFor, emit, median, progress, ROOT, round, runtimeKey, runtimeName, tempDir } from "./_support.ts";

const CONCURRENT = 100;
const PROCESSES = 8;
const ROUNDS_IN_PROCESS = 5;
const ROUNDS_PROCESSES = 3;
const SERVICE = "cli-auth-bench-refresh";
const CHILD = fileURLToPath(new URL("./_refresh_child.ts", import.meta.url));

const provider = await startProvider();
const temp = await tempDir("cli-auth-bench-refresh-");
process.env.XDG_CONFIG_HOME = `${temp.dir}/config`;
process.env.XDG_RUNTIME_DIR = `${temp.dir}/run`;
mkdirSync(process.env.XDG_RUNTIME_DIR, { mode: 0o700 });
const childEnv: Record<string, string> = {};
for (const [key, value] of Object.entries(process.env)) if (value !== undefined) childEnv[key] = value;
/** The same file the library uses, to make the stored session expire. */
const store = fileStore({ service: SERVICE });
const newAuth = () =>
  new CliAuth({ issuer: provider.issuer, clientId: "cli", service: SERVICE, allowInsecureRequests: true, storage: "file" });

/** Makes the stored access token expire within the refresh skew (an hour-long token 5 s before its end); returns it. */
async function expire(): Promise<string> {
  const session = JSON.parse((await store.get("default"))!);
  session.tokens.expiresAt = Date.now() + 5_000;
  session.tokens.issuedAt = session.tokens.expiresAt - 3_600_000;
  await store.set("default", JSON.stringify(session));
  return session.tokens.accessToken;
}

const refreshRequests = async () => (await provider.tokenRequests("refresh_token")).length;

interface Round {
  ms: number;
  refreshRequests: number;
  served: number;
  callers: number;
  sameNewToken: boolean;
  errors: string[];
  /** Each caller's own getAccessToken() time, sorted (8-process lines): shows how the lock serialises them. */
  callerMs?: number[];
}

async function inProcessRound(): Promise<Round> {
  const auth = newAuth();
  const old = await expire();
  await provider.reset();
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: CONCURRENT }, () => auth.getAccessToken()));
  const ms = performance.now() - t0;
  const tokens = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const errors = results.flatMap((r) => (r.status === "rejected" ? [String((r.reason as { code?: string }).code ?? r.reason)] : []));
  return {
    ms,
    refreshRequests: await refreshRequests(),
    served: tokens.length,
    callers: CONCURRENT,
    sameNewToken: tokens.length === CONCURRENT && new Set(tokens).size === 1 && tokens[0] !== old,
    errors,
  };
}

interface Child {
  send(line: string): void;
  /** What the child got, and how long its getAccessToken() call took by its own clock. */
  result: Promise<{ ok: boolean; token?: string; code?: string; ms?: number }>;
}

const childCommand = commandFor(CHILD, runtimeKey());

async function startChild(): Promise<Child> {
  const [command, args] = await childCommand;
  const config = { issuer: provider.issuer, service: SERVICE };
  const child = spawn(command, [...args, JSON.stringify(config)], { cwd: ROOT, env: childEnv, stdio: ["pipe", "pipe", "inherit"] });
  child.stdout.setEncoding("utf8");
  let out = "";
  let onLine: ((line: string) => void)[] = [];
  child.stdout.on("data", (chunk: string) => {
    out += chunk;
    let newline;
    while ((newline = out.indexOf("\n")) >= 0) {
      const line = out.slice(0, newline);
      out = out.slice(newline + 1);
      onLine.shift()?.(line);
    }
  });
  const nextLine = () => new Promise<string>((resolve) => onLine.push(resolve));
  const ready = nextLine();
  const result = nextLine().then((line) => JSON.parse(line));
  // "close", not "exit": a child's last line may still be in the pipe when it has exited.
  const exited = new Promise<never>((_, reject) =>
    child.once("close", (code) => {
      onLine = [];
      reject(new Error(`refresh child ended with ${code} before answering`));
    })
  );
  exited.catch(() => {});
  await Promise.race([ready, exited]);
  return { send: (line) => child.stdin.write(`${line}\n`), result: Promise.race([result, exited]) };
}

async function processesRound(): Promise<Round> {
  const children = await Promise.all(Array.from({ length: PROCESSES }, () => startChild()));
  const old = await expire();
  await provider.reset();
  const t0 = performance.now();
  for (const child of children) child.send("go");
  const results = await Promise.all(children.map((c) => c.result));
  const ms = performance.now() - t0;
  const tokens = results.flatMap((r) => (r.ok ? [r.token!] : []));
  return {
    ms,
    refreshRequests: await refreshRequests(),
    served: tokens.length,
    callers: PROCESSES,
    sameNewToken: tokens.length === PROCESSES && new Set(tokens).size === 1 && tokens[0] !== old,
    errors: results.flatMap((r) => (r.ok ? [] : [r.code!])),
    callerMs: results.flatMap((r) => (r.ms === undefined ? [] : [round(r.ms, 1)])).sort((a, b) => a - b),
  };
}

const summary = (label: string, rounds: Round[]) => ({
  label,
  rounds: rounds.length,
  medianMs: round(median(rounds.map((r) => r.ms)), 2),
  maxMs: round(Math.max(...rounds.map((r) => r.ms)), 2),
  refreshRequestsPerRound: rounds.map((r) => r.refreshRequests),
  servedPerRound: rounds.map((r) => `${r.served}/${r.callers}`),
  allSameNewToken: rounds.every((r) => r.sameNewToken),
  errors: [...new Set(rounds.flatMap((r) => r.errors))],
  callerMsPerRound: rounds.flatMap((r) => (r.callerMs ? [r.callerMs] : [])),
});

const lines = [];
try {
  await loginWithoutBrowser(newAuth());
  await inProcessRound(); // warm-up: code paths, connections, the lock folder
  const inProcess = [];
  for (let i = 0; i < ROUNDS_IN_PROCESS; i++) inProcess.push(await inProcessRound());
  lines.push({ key: "concurrent", ...summary(`${CONCURRENT} concurrent calls, 1 process`, inProcess) });
  progress(`refresh: ${CONCURRENT} concurrent calls done`);

  const processes = [];
  for (let i = 0; i < ROUNDS_PROCESSES; i++) processes.push(await processesRound());
  lines.push({ key: "processes", ...summary(`${PROCESSES} processes at once`, processes) });
  progress(`refresh: ${PROCESSES} processes done`);
} finally {
  await provider.close();
  await temp.remove();
}

emit({
  benchmark: "refresh_load",
  runtime: runtimeKey(),
  runtimeVersion: runtimeName(),
  method: "file store; stored access token set to expire in 5 s (skew 30 s); refresh requests counted by the provider; time from the first call (or the \"go\" line) to the last caller served",
  lines,
});
