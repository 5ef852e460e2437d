// The fresh-token path: `getAccessToken()` on a valid session, which every command of a CLI calls first. It must
// read the store once and return, with no request to the provider. Per-call latency (median, p99) with the memory,
// file and Linux-keychain stores, and the requests the provider saw during the timed calls (counted by the provider).
// The stores are the shipped ones, named by `storage` ("memory", "file" with XDG_CONFIG_HOME in a temp folder,
// "keychain" on the private Secret Service the runner put in the environment: Bun.secrets on Bun, else secret-tool).
//
//   npx deno run -A bench/fresh_token.ts      npx bun bench/fresh_token.ts      node bench/run.mjs (all runtimes)
import process from "node:process";
import { keychainStore } from "../adapters/mod.ts";
import { CliAuth, type CliAuthOptions } from "../mod.ts";
import { loginWithoutBrowser } from "../test/support/login.ts";
import { startProvider } from "../test/support/provider.ts";
import { emit, median, percentile, privateKeyring, progress, round, runtimeKey, runtimeName, type StoreKind, tempDir } from "./_support.ts";

const CALLS: Record<StoreKind, number> = { memory: 5_000, file: 2_000, keychain: 200 };
const WARMUP = 50;
const SERVICE = "cli-auth-bench-fresh";

const provider = await startProvider();
const temp = await tempDir("cli-auth-bench-fresh-");
const keyring = await privateKeyring().catch((error: Error) => ({
  env: undefined,
  note: `no Secret Service: ${error.message}`,
  stop: () => Promise.resolve(),
  missing: true,
}));

process.env.XDG_CONFIG_HOME = temp.dir;

/** The `storage` option: the store's name, except for a keyring this file started (only reachable through `env`). */
function storageFor(kind: StoreKind): CliAuthOptions["storage"] {
  return kind === "keychain" && keyring.env ? keychainStore({ service: SERVICE, env: keyring.env }) : kind;
}
const keychainBackend = () => keychainStore({ service: SERVICE, env: keyring.env }).backend;

const rows = [];
try {
  const kinds: StoreKind[] = "missing" in keyring ? ["memory", "file"] : ["memory", "file", "keychain"];
  for (const kind of kinds) {
    const auth = new CliAuth({
      issuer: provider.issuer,
      clientId: "cli",
      service: SERVICE,
      allowInsecureRequests: true,
      storage: storageFor(kind),
    });
    await loginWithoutBrowser(auth);
    for (let i = 0; i < WARMUP; i++) await auth.getAccessToken();
    await provider.reset();
    const samples: number[] = [];
    const started = performance.now();
    let token = "";
    for (let i = 0; i < CALLS[kind]; i++) {
      const t0 = performance.now();
      token = await auth.getAccessToken();
      samples.push(performance.now() - t0);
    }
    const totalMs = performance.now() - started;
    const requests = (await provider.requests()).length;
    if (!token) throw new Error("no token");
    const backend = kind === "keychain" ? `keychain (${keychainBackend()})` : kind;
    progress(`fresh token, ${backend}: median ${median(samples).toFixed(3)} ms, ${requests} requests`);
    rows.push({
      store: kind,
      label: backend,
      calls: samples.length,
      medianMs: round(median(samples), 4),
      p99Ms: round(percentile(samples, 99), 4),
      meanMs: round(totalMs / samples.length, 4),
      requests,
    });
    await auth.logout({ revoke: false });
  }
} finally {
  await provider.close();
  await keyring.stop();
  await temp.remove();
}

emit({
  benchmark: "fresh_token",
  runtime: runtimeKey(),
  runtimeVersion: runtimeName(),
  keyring: keyring.note,
  method: `getAccessToken() awaited in sequence after ${WARMUP} warm-up calls; provider requests counted by the provider over the timed calls`,
  rows,
});
