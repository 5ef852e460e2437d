// A full browser (code + PKCE) login against the local provider, the "browser" played by the test harness's scripted
// HTTP user, timed in parts: discovery, listener start, the browser-free round trips at the provider (authorize,
// login and consent pages, up to the redirect), the callback delivered to the loopback listener, the listener's
// close (the library exchanges the code once the browser has its page and the port is closed), token exchange,
// userinfo, store write (file store), and the rest (the library's own work: PKCE, state, ID token checks, JSON).
// No library code is changed for this: the timestamps come from the public `fetch` option (each provider request
// the library makes) and the `platform` option: the real platform, with its `listen` (start and close) timed and the writes
// of the store it creates for `storage: "file"` (XDG_CONFIG_HOME in a temp folder) timed.
//
// The device flow is not timed here: its length is the provider's polling interval (RFC 8628), not our work.
//
//   npx deno run -A bench/login.ts      npx bun bench/login.ts      node bench/run.mjs (all runtimes)
import process from "node:process";
import { createPlatform } from "../adapters/mod.ts";
import { CliAuth, type Platform } from "../mod.ts";
import { authorizeWithoutBrowser } from "../test/support/interact.ts";
import { startProvider } from "../test/support/provider.ts";
import { emit, median, progress, round, runtimeKey, runtimeName, tempDir } from "./_support.ts";

const WARMUP = 2;
const LOGINS = 10;
const SERVICE = "cli-auth-bench-login";

const PHASES = [
  "discovery",
  "listenerStart",
  "providerRoundTrips",
  "callbackDelivery",
  "listenerClose",
  "tokenExchange",
  "userinfo",
  "storeWrite",
  "rest",
] as const;
type Phase = (typeof PHASES)[number];

const provider = await startProvider();
const temp = await tempDir("cli-auth-bench-login-");
process.env.XDG_CONFIG_HOME = temp.dir;

async function timedLogin(): Promise<Record<Phase | "total", number>> {
  const spent: Record<Phase, number> = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  const add = (phase: Phase, ms: number) => void (spent[phase] += ms);
  let delivered = Number.POSITIVE_INFINITY;

  const timedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    const phase: Phase = path.startsWith("/.well-known/")
      ? "discovery"
      : path === "/token"
      ? "tokenExchange"
      : path === "/me"
      ? "userinfo"
      : "rest";
    const t0 = performance.now();
    const response = await fetch(request);
    // The library reads the body next; buffer it here so the read is part of the request's time.
    const body = await response.arrayBuffer();
    add(phase, performance.now() - t0);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };

  const real = await createPlatform();
  const platform: Platform = {
    ...real,
    async listen(options) {
      const t0 = performance.now();
      const listener = await real.listen(options);
      add("listenerStart", performance.now() - t0);
      return {
        port: listener.port,
        // The login closes the listener once the browser has its page: the close is what follows delivery.
        async close() {
          await listener.close();
          add("listenerClose", Math.max(0, performance.now() - delivered));
        },
      };
    },
    createStore(kind, options) {
      const store = real.createStore(kind, options);
      return {
        kind: store.kind,
        get: (key) => store.get(key),
        delete: (key) => store.delete(key),
        async set(key, value) {
          const t0 = performance.now();
          await store.set(key, value);
          add("storeWrite", performance.now() - t0);
        },
      };
    },
  };

  const auth = new CliAuth({
    issuer: provider.issuer,
    clientId: "cli",
    service: SERVICE,
    allowInsecureRequests: true,
    storage: "file",
    platform,
    fetch: timedFetch,
  });
  const started = performance.now();
  await auth.login({
    flow: "browser",
    onAuthorizationUrl: () => {},
    openBrowser: async (url) => {
      const t0 = performance.now();
      const callback = await authorizeWithoutBrowser(url);
      const t1 = performance.now();
      await (await fetch(callback)).text();
      delivered = performance.now();
      add("providerRoundTrips", t1 - t0);
      add("callbackDelivery", delivered - t1);
    },
  });
  const total = performance.now() - started;
  spent.rest += total - PHASES.reduce((sum, p) => sum + spent[p], 0);
  return { ...spent, total };
}

const runs: Record<Phase | "total", number>[] = [];
try {
  for (let i = 0; i < WARMUP; i++) await timedLogin();
  for (let i = 0; i < LOGINS; i++) runs.push(await timedLogin());
} finally {
  await provider.close();
  await temp.remove();
}

const medians = Object.fromEntries(
  [...PHASES, "total" as const].map((key) => [key, round(median(runs.map((r) => r[key])), 3)]),
) as Record<Phase | "total", number>;
progress(`login: median ${medians.total.toFixed(1)} ms over ${LOGINS} logins`);
emit({
  benchmark: "login",
  runtime: runtimeKey(),
  runtimeVersion: runtimeName(),
  flow: "browser (code + PKCE, loopback listener), scripted HTTP user, file store",
  logins: LOGINS,
  warmup: WARMUP,
  medianMs: medians,
});
