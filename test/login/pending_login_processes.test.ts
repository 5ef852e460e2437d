// A sign-in an agent drives across processes (issue 19): every step is a new CLI process on this runtime
// (test/fixtures/pending_login.ts) sharing only the credentials file, against the real provider; the scripted user
// approves or denies the device code, or signs in and hands back the redirect URL.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approveDevice, authorizeWithoutBrowser } from "../support/interact.ts";
import { PENDING_LOGIN_KEY } from "../support/login.ts";
import { DEVICE_GRANT, startProvider, type TestProvider } from "../support/provider.ts";
import { ROOT, runScript, scriptCommand } from "../support/run_script.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/pending_login.ts", import.meta.url));
/** The slow provider's polling interval: long enough that a process started right after a poll is "too soon". */
const INTERVAL_S = 5;

let provider: TestProvider;
let slow: TestProvider;
let expiring: TestProvider;
let dir: string;

beforeAll(async () => {
  [provider, slow, expiring] = await Promise.all([
    startProvider({ deviceInterval: 1 }),
    startProvider({ deviceInterval: INTERVAL_S }),
    startProvider({ deviceInterval: 1, deviceCodeTtl: 2 }),
  ]);
  dir = mkdtempSync(join(tmpdir(), "cli-auth-pending-procs-"));
});
afterAll(async () => {
  await Promise.all([provider?.close(), slow?.close(), expiring?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let services = 0;

/** An agent's steps against one provider and one service (its own credentials file). */
function agent(server: TestProvider) {
  const service = `cli-auth-pending-${++services}`;
  const env = { ISSUER: server.issuer, SERVICE: service, XDG_CONFIG_HOME: join(dir, "config"), XDG_RUNTIME_DIR: dir };
  const outputs: string[] = [];
  const step = async (args: string[], stdin?: string) => {
    const result = await runScript(FIXTURE, { args, env, stdin, timeoutMs: 40_000 });
    outputs.push(result.stdout, result.stderr);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout.trim()) as Record<string, unknown>;
  };
  /** The credentials file: profile name → stored value (parsed). */
  const stored = (): Record<string, Record<string, unknown>> => {
    try {
      const { profiles } = JSON.parse(readFileSync(join(dir, "config", service, "credentials.json"), "utf8"));
      return Object.fromEntries(Object.entries(profiles).map(([k, v]) => [k, typeof v === "string" ? JSON.parse(v) : v])) as never;
    } catch {
      return {};
    }
  };
  return { env, step, stored, outputs };
}

describe("a device sign-in across processes", () => {
  it("begin, exit; resume (one poll), resume at once (none); approve; resume (done); a fourth process makes no request", async () => {
    const { step, stored, outputs } = agent(slow);
    const pending = await step(["begin"]);
    const began = (await slow.requests()).find((r) => r.path === "/device/auth")!.time;
    expect(pending).toMatchObject({ flow: "device", interval: INTERVAL_S });
    const { deviceCode } = stored()[PENDING_LOGIN_KEY]!;
    expect(typeof deviceCode).toBe("string");
    expect(outputs.join("\n")).not.toContain(deviceCode);

    // Before approval, once the interval is up: exactly one token request, still pending.
    await sleep(began + INTERVAL_S * 1000 + 200 - Date.now());
    const second = await step(["resume"]);
    expect(second).toEqual({ done: false, pending });
    expect(await slow.tokenRequests(DEVICE_GRANT)).toHaveLength(1);
    const polledAt = (await slow.tokenRequests(DEVICE_GRANT))[0]!.time;
    // At once again, from another process: no request.
    expect(await step(["resume"])).toEqual({ done: false, pending });
    expect(Date.now() - polledAt, "the third process ran within the interval").toBeLessThan(INTERVAL_S * 1000);
    expect(await slow.tokenRequests(DEVICE_GRANT)).toHaveLength(1);

    await approveDevice(slow.issuer, pending.userCode as string, { login: "agent-user" });
    await sleep(polledAt + INTERVAL_S * 1000 + 200 - Date.now());
    expect(await step(["resume"])).toMatchObject({ done: true, flow: "device", user: { sub: "agent-user" } });
    expect(await slow.tokenRequests(DEVICE_GRANT)).toHaveLength(2);
    const session = stored().default!;
    expect(stored()[PENDING_LOGIN_KEY]).toBeUndefined();

    await slow.reset();
    expect(await step(["token"])).toEqual({ token: (session.tokens as { accessToken: string }).accessToken });
    expect(await slow.requests()).toEqual([]);
    // Nothing printed before the token command held a secret.
    const printed = outputs.slice(0, -2).join("\n");
    const tokens = session.tokens as Record<string, string>;
    for (const secret of [deviceCode as string, tokens.accessToken!, tokens.refreshToken!, tokens.idToken!]) {
      expect(printed).not.toContain(secret);
    }
  });

  it("access_denied forgets the pending login", async () => {
    const { step, stored } = agent(provider);
    const pending = await step(["begin"]);
    await approveDevice(provider.issuer, pending.userCode as string, { deny: true });
    expect(await step(["resume-wait"])).toMatchObject({ error: "access_denied" });
    expect(stored()[PENDING_LOGIN_KEY]).toBeUndefined();
    expect((await step(["status"])).pendingLogin).toBeUndefined();
    expect(await step(["resume"])).toMatchObject({ error: "no_pending_login", hint: "Run `my-agent login` to begin one" });
  });

  it("an expired code is device_code_expired, and forgotten", async () => {
    const { step, stored } = agent(expiring);
    await step(["begin"]);
    await sleep(2_300);
    expect(await step(["resume"])).toMatchObject({ error: "device_code_expired" });
    expect(stored()[PENDING_LOGIN_KEY]).toBeUndefined();
    expect(await step(["resume"])).toMatchObject({ error: "no_pending_login" });
    // status() does not report an expired one either (and removes it).
    await step(["begin"]);
    await sleep(2_300);
    expect((await step(["status"])).pendingLogin).toBeUndefined();
    expect(stored()[PENDING_LOGIN_KEY]).toBeUndefined();
  });

  it("cancel forgets it", async () => {
    const { step } = agent(provider);
    const pending = await step(["begin"]);
    expect((await step(["status"])).pendingLogin).toEqual({
      flow: "device",
      expiresAt: pending.expiresAt,
      userCode: pending.userCode,
      verificationUri: pending.verificationUri,
    });
    expect(await step(["cancel"])).toEqual({ cancelled: true });
    expect((await step(["status"])).pendingLogin).toBeUndefined();
    expect(await step(["cancel"])).toEqual({ cancelled: false });
  });

  it("survives a SIGKILL of the process that began it", async () => {
    const { env, step } = agent(provider);
    const [command, args] = await scriptCommand(FIXTURE);
    const child = spawn(command, [...args, "begin"], { cwd: ROOT, env: { ...process.env, ...env, HANG: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        if (stdout.includes("\n")) resolve(stdout.split("\n")[0]!);
      });
      child.once("exit", (code) => reject(new Error(`begin exited (${code}) before printing`)));
    });
    const exited = new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const pending = JSON.parse(line);
    await approveDevice(provider.issuer, pending.userCode, { login: "survivor" });
    expect(await step(["resume-wait"])).toMatchObject({ done: true, user: { sub: "survivor" } });
  });
});

describe("a manual sign-in across processes", () => {
  it("begin in one process, sign in over HTTP, resume with the redirect URL in another; a wrong state stores nothing", async () => {
    const { step, stored, outputs } = agent(provider);
    const pending = await step(["begin", "manual"]);
    expect(pending.flow).toBe("manual");
    const { codeVerifier } = stored()[PENDING_LOGIN_KEY]!;
    expect(outputs.join("\n")).not.toContain(codeVerifier);
    const callback = await authorizeWithoutBrowser(pending.authorizationUrl as string, { login: "paste-user" });
    const forged = new URL(callback);
    forged.searchParams.set("state", "forged-state");
    expect(await step(["resume-callback"], `${forged.href}\n`)).toMatchObject({ error: "state_mismatch" });
    expect(stored().default).toBeUndefined();
    expect(await step(["resume-callback"], `${callback.href}\n`)).toMatchObject({ done: true, flow: "manual", user: { sub: "paste-user" } });
    expect(stored().default).toMatchObject({ flow: "manual" });
    expect(stored()[PENDING_LOGIN_KEY]).toBeUndefined();
    expect(outputs.join("\n")).not.toContain(callback.searchParams.get("code")!);
  });
});
