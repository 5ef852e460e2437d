// The refresh lock as CliAuth uses it, against the real provider (rotating refresh tokens with reuse detection): the
// `lock` option reaches the lock; a refresh that loses a race returns the newer session and never deletes it; a lock
// folder squatted at the old default path in the temporary folder changes nothing.
import { chown, mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CliAuth, type FetchLike, type Platform } from "../../mod.ts";
import { lockFileName } from "../../adapters/lock.ts";
import { createPlatform, fileStore } from "../../adapters/mod.ts";
import { countingStore, expireStoredSession, loginWithoutBrowser, testOptions } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { rejection } from "../support/reject.ts";
import { runScript } from "../support/run_script.ts";

const REFRESH = "refresh_token";
const SERVICE = "cli-auth-test";
let provider: TestProvider;
let dir: string;

beforeAll(async () => {
  provider = await startProvider();
});
afterAll(async () => {
  await provider?.close();
});
beforeEach(async (context) => {
  dir = await mkdtemp(join(tmpdir(), "cli-auth-session-lock-"));
  context.onTestFinished(() => rm(dir, { recursive: true, force: true }));
});

/** A store holding a logged-in session whose access token has expired, and the provider's log emptied. */
async function expiredSession() {
  const store = countingStore();
  await loginWithoutBrowser(new CliAuth(testOptions(provider.issuer, { storage: store })));
  await expireStoredSession(store);
  await provider.reset();
  return store;
}

/** A lock file of a live process (PID 1) in `dir`, for the refresh lock of profile "default". */
async function liveLock(lastRenewedMsAgo = 0): Promise<string> {
  const path = join(dir, lockFileName(`${SERVICE}.default.refresh`));
  const at = Date.now() - lastRenewedMsAgo;
  await writeFile(path, JSON.stringify({ pid: 1, host: hostname(), time: at, token: "someone-else" }));
  await utimes(path, new Date(at), new Date(at));
  return path;
}

describe("CliAuth's `lock` option", () => {
  it("takes the refresh lock in `lock.dir` and waits no longer than `lock.timeoutMs`", async () => {
    const store = await expiredSession();
    const path = await liveLock();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store, lock: { dir, timeoutMs: 300 } }));
    const error = await rejection(auth.getAccessToken());
    expect(error.code).toBe("timeout");
    expect(error.message).toContain("held by process 1");
    expect(error.hint).toContain(path);
    expect(await provider.tokenRequests(REFRESH)).toEqual([]);
  });

  it("takes over a lock not renewed for `lock.staleMs`", async () => {
    const store = await expiredSession();
    await liveLock(3_000);
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store, lock: { dir, staleMs: 1_000, timeoutMs: 5_000 } }));
    expect(await auth.getAccessToken()).toBeTruthy();
    expect(await provider.tokenRequests(REFRESH)).toHaveLength(1);
  });
});

describe("a refresh that loses a race (a lock that does not exclude)", () => {
  it("returns the session the winner stored, and leaves it in the store", async () => {
    const store = await expiredSession();
    // The loser's token request waits at a gate until the winner has refreshed and stored its session; its lock
    // excludes nobody, so both spend the same refresh token and the provider refuses the second (reuse detection).
    let arrived!: () => void;
    const atTokenEndpoint = new Promise<void>((resolve) => (arrived = resolve));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const gatedFetch: FetchLike = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname === "/token") {
        arrived();
        await gate;
      }
      return await fetch(input, init);
    };
    const nonExclusive: Platform = { ...(await createPlatform()), withLock: (_name, fn) => fn() };
    const loser = new CliAuth(testOptions(provider.issuer, { storage: store, platform: nonExclusive, fetch: gatedFetch }));
    const winner = new CliAuth(testOptions(provider.issuer, { storage: store }));

    const losing = loser.getAccessToken();
    losing.catch(() => {});
    await atTokenEndpoint;
    const winnerToken = await winner.getAccessToken();
    const newer = store.values.get("default");
    open();
    expect(await losing).toBe(winnerToken);
    expect(store.values.get("default")).toBe(newer);
    // The race really happened: the provider answered the second refresh with invalid_grant.
    expect((await provider.tokenRequests(REFRESH)).map((r) => r.error ?? r.status)).toEqual([200, "invalid_grant"]);
  });
});

describe("the refresh lock's default folder, without $XDG_RUNTIME_DIR", () => {
  it("refreshes although another user made the old lock folder (<tmpdir>/cli-auth-<uid>) first", async () => {
    const configHome = join(dir, "config");
    const service = `cli-auth-squat-${Date.now()}`;
    const previous = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = configHome;
    try {
      const auth = new CliAuth(testOptions(provider.issuer, { service, storage: "file", logger: { warn: () => {} } }));
      await loginWithoutBrowser(auth);
      await expireStoredSession(fileStore({ service }));
    } finally {
      if (previous === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = previous;
    }
    // The CLI process gets a temporary folder of its own, where "another user" (uid 65534) made the old folder.
    const tmp = join(dir, "tmp");
    const squatted = join(tmp, `cli-auth-${process.getuid!()}`);
    await mkdir(squatted, { recursive: true, mode: 0o777 });
    await chown(squatted, 65534, 65534);
    await provider.reset();
    const result = await runScript(fileURLToPath(new URL("../fixtures/get_token.ts", import.meta.url)), {
      timeoutMs: 30_000,
      env: {
        ISSUER: provider.issuer,
        SERVICE: service,
        STORAGE: "file",
        XDG_CONFIG_HOME: configHome,
        XDG_CACHE_HOME: join(dir, "cache"),
        XDG_RUNTIME_DIR: undefined,
        TMPDIR: tmp,
      },
    });
    expect(result.stdout.trim(), result.stderr).toMatch(/^token \S+$/);
    expect(await provider.tokenRequests(REFRESH)).toHaveLength(1);
  });
});
