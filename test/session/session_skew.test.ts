// Short-lived access tokens against the real provider (20-s access tokens, shorter than the default 30-s refresh
// skew): the effective skew never exceeds half the token's lifetime as issued, so a token just obtained is served,
// in this process and in the next ones, instead of being refreshed on every call.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth } from "../../mod.ts";
import { fileStore } from "../../adapters/mod.ts";
import { isFresh } from "../../src/session/token_freshness.ts";
import { countingStore, expireStoredSession, loginWithoutBrowser, testOptions } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { runScript } from "../support/run_script.ts";

const REFRESH = "refresh_token";
const TTL_SECONDS = 20;
const FIXTURE = fileURLToPath(new URL("../fixtures/get_token.ts", import.meta.url));
let provider: TestProvider;
let temp: string;

beforeAll(async () => {
  provider = await startProvider({ accessTokenTtl: TTL_SECONDS });
  temp = mkdtempSync(join(tmpdir(), "cli-auth-skew-"));
});
afterAll(async () => {
  await provider?.close();
  rmSync(temp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("isFresh()", () => {
  it("caps the skew at half the token's lifetime as issued", () => {
    const now = 1_000_000;
    // A 5-s token issued 2 s ago: fresh until 2.5 s before it expires, whatever the 30-s skew says.
    expect(isFresh({ accessToken: "a", tokenType: "Bearer", issuedAt: now - 2_000, expiresAt: now + 3_000 }, now, 30)).toBe(true);
    expect(isFresh({ accessToken: "a", tokenType: "Bearer", issuedAt: now - 3_000, expiresAt: now + 2_000 }, now, 30)).toBe(false);
    // An hour-long token: the skew applies in full.
    expect(isFresh({ accessToken: "a", tokenType: "Bearer", issuedAt: now - 3_570_000, expiresAt: now + 30_000 }, now, 30)).toBe(false);
    expect(isFresh({ accessToken: "a", tokenType: "Bearer", issuedAt: now - 3_560_000, expiresAt: now + 40_000 }, now, 30)).toBe(true);
    // Without the issue time (a session stored by an older version): the skew as before.
    expect(isFresh({ accessToken: "a", tokenType: "Bearer", expiresAt: now + 3_000 }, now, 30)).toBe(false);
    expect(isFresh({ accessToken: "a", tokenType: "Bearer", issuedAt: now, expiresAt: now }, now, 30)).toBe(false);
  });
});

describe(`getAccessToken() with ${TTL_SECONDS}-s access tokens and the default 30-s skew`, () => {
  it("keeps the issue time in the stored session", async () => {
    const store = countingStore();
    const before = Date.now();
    await loginWithoutBrowser(new CliAuth(testOptions(provider.issuer, { storage: store })));
    const { tokens } = JSON.parse(store.values.get("default")!);
    expect(tokens.issuedAt).toBeGreaterThanOrEqual(before);
    expect(tokens.issuedAt).toBeLessThanOrEqual(Date.now());
    expect(tokens.expiresAt - tokens.issuedAt).toBe(TTL_SECONDS * 1000);
  });

  it("makes at most one refresh for 10 calls in 1 s after a login", async () => {
    const store = countingStore();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store }));
    const { tokens } = await loginWithoutBrowser(auth);
    await provider.reset();
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      seen.push(await auth.getAccessToken());
      await sleep(100);
    }
    expect((await provider.tokenRequests(REFRESH)).length).toBeLessThanOrEqual(1);
    expect(seen[0]).toBe(tokens.accessToken);
  });

  it("does not refresh, in processes started one after another, a token another process got a moment ago", async () => {
    const service = `cli-auth-skew-${Date.now()}`;
    const env = { XDG_CONFIG_HOME: join(temp, "config"), XDG_RUNTIME_DIR: join(temp, "run") };
    const previous = { ...process.env };
    Object.assign(process.env, env);
    try {
      await loginWithoutBrowser(new CliAuth(testOptions(provider.issuer, { service, storage: "file", logger: { warn: () => {} } })));
      // Due now: the first process refreshes; the ones after it find a token a moment old.
      await expireStoredSession(fileStore({ service }));
    } finally {
      for (const key of Object.keys(env)) {
        if (previous[key] === undefined) delete process.env[key];
        else process.env[key] = previous[key];
      }
    }
    await provider.reset();
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await runScript(FIXTURE, {
        timeoutMs: 30_000,
        env: { ...env, ISSUER: provider.issuer, SERVICE: service, STORAGE: "file" },
      });
      const token = /^token (\S+)$/.exec(result.stdout.trim())?.[1];
      expect(token, `${result.stdout}\n${result.stderr}`).toBeDefined();
      tokens.push(token!);
    }
    expect(await provider.tokenRequests(REFRESH)).toHaveLength(1);
    expect(new Set(tokens).size).toBe(1);
  });

  it("reads a session stored without the issue time, and refreshes it within the skew as before", async () => {
    const store = countingStore();
    await loginWithoutBrowser(new CliAuth(testOptions(provider.issuer, { storage: store })));
    const old = JSON.parse(store.values.get("default")!);
    delete old.tokens.issuedAt;
    old.tokens.expiresAt = Date.now() + 3_600_000;
    store.values.set("default", JSON.stringify(old));
    await provider.reset();
    const auth = new CliAuth(testOptions(provider.issuer, { storage: store }));
    expect(await auth.getAccessToken()).toBe(old.tokens.accessToken);
    expect(await provider.requests()).toEqual([]);
    // Within the 30-s skew and no issue time to cap it: refreshed, and the new session has its issue time.
    old.tokens.expiresAt = Date.now() + 10_000;
    store.values.set("default", JSON.stringify(old));
    const fresh = await auth.getAccessToken();
    expect(fresh).not.toBe(old.tokens.accessToken);
    expect(await provider.tokenRequests(REFRESH)).toHaveLength(1);
    expect(JSON.parse(store.values.get("default")!).tokens.issuedAt).toBeGreaterThan(0);
  });
});
