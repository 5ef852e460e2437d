// getAccessToken() across processes: 8 CLI processes (on this runtime) ask at once on an expiring session with
// rotating refresh tokens; the lock and the re-read under it make exactly one refresh request.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth } from "../../mod.ts";
import { fileStore } from "../../adapters/mod.ts";
import { expireStoredSession, loginWithoutBrowser, testOptions } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { runScript } from "../support/run_script.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/get_token.ts", import.meta.url));
let provider: TestProvider;
let configHome: string;
let runtimeDir: string;

beforeAll(async () => {
  provider = await startProvider();
  configHome = mkdtempSync(join(tmpdir(), "cli-auth-processes-"));
  runtimeDir = mkdtempSync(join(tmpdir(), "cli-auth-runtime-"));
});
afterAll(async () => {
  await provider?.close();
  rmSync(configHome, { recursive: true, force: true });
  rmSync(runtimeDir, { recursive: true, force: true });
});

describe("getAccessToken() in 8 processes at once", () => {
  it("makes exactly one refresh request and every process ends with the same valid token", async () => {
    const service = `cli-auth-procs-${Date.now()}`;
    const env = { XDG_CONFIG_HOME: configHome, XDG_RUNTIME_DIR: runtimeDir };
    const previous = { ...process.env };
    Object.assign(process.env, env);
    let loginToken: string;
    try {
      const auth = new CliAuth(testOptions(provider.issuer, { service, storage: "file" }));
      loginToken = (await loginWithoutBrowser(auth)).tokens.accessToken;
      // Due for refresh now; a token refreshed by any of the 8 processes is then fresh for an hour.
      await expireStoredSession(fileStore({ service }));
    } finally {
      for (const key of Object.keys(env)) {
        if (previous[key] === undefined) delete process.env[key];
        else process.env[key] = previous[key];
      }
    }
    await provider.reset();
    const startAt = Date.now() + 2_500;
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        runScript(FIXTURE, {
          timeoutMs: 30_000,
          env: { ...env, ISSUER: provider.issuer, SERVICE: service, STORAGE: "file", START_AT: String(startAt) },
        })
      ),
    );
    const outputs = results.map((r) => r.stdout.trim());
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const tokens = outputs.map((line) => /^token (\S+)$/.exec(line)?.[1]);
    expect(tokens.every(Boolean), outputs.join("\n")).toBe(true);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(loginToken);
    expect(await provider.tokenRequests("refresh_token")).toHaveLength(1);
    // The token they share is valid at the provider.
    const userinfo = await fetch(`${provider.issuer}/me`, { headers: { authorization: `Bearer ${tokens[0]}` } });
    expect(userinfo.status).toBe(200);
  });
});
