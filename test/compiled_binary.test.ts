// The example CLI as a single binary: `bun build --compile` (tested), `deno compile` (tested when its runtime,
// denort, is at hand: it cannot be downloaded here) and, as the stand-in proof that a compiled Deno binary would see
// the whole module graph (lazy runtime imports included), `deno bundle` run under Deno.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approveDevice } from "./support/interact.ts";
import { startKeyring, type TestKeyring } from "./support/keyring.ts";
import { startProvider, type TestProvider } from "./support/provider.ts";
import { BUN, DENO, ROOT } from "./support/run_script.ts";

const CLI = join(ROOT, "examples/my_cli.ts");
let provider: TestProvider;
let keyring: TestKeyring;
let work: string;

beforeAll(async () => {
  [provider, keyring] = await Promise.all([startProvider(), startKeyring()]);
  work = mkdtempSync(join(tmpdir(), "cli-auth-binary-"));
});
afterAll(async () => {
  await Promise.all([provider?.close(), keyring?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string | undefined>, cwd = work): Promise<Run> {
  const full: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) full[key] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: full, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let approved = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => void (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      const userCode = /user_code=([\w-]+)/.exec(stderr)?.[1];
      if (userCode && !approved) {
        approved = true;
        void approveDevice(provider.issuer, userCode, { login: "bin-user" });
      }
    });
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Builds from the repository root, where deno.json and package.json say how to resolve imports. */
function build(command: string, args: string[]): Promise<Run> {
  return run(command, args, {}, ROOT);
}

/** The CLI's environment: the test provider, a private config folder, and a keyring or none. */
function cliEnv(name: string, withKeyring: boolean): Record<string, string | undefined> {
  return {
    MYCLI_ISSUER: provider.issuer,
    MYCLI_CLIENT_ID: "cli",
    MYCLI_ALLOW_INSECURE: "1",
    XDG_CONFIG_HOME: join(work, `config-${name}`),
    DBUS_SESSION_BUS_ADDRESS: withKeyring ? keyring.env.DBUS_SESSION_BUS_ADDRESS : undefined,
    DISPLAY: undefined,
    CI: "1",
  };
}

/** status (logged out), device login (approved by the test), status, token, logout: the whole life of a binary. */
async function exercise(command: string, prefix: string[], name: string, withKeyring: boolean): Promise<void> {
  const env = cliEnv(name, withKeyring);
  const before = await run(command, [...prefix, "status"], env);
  expect(before.code, before.stderr).toBe(1);
  expect(before.stdout).toContain("Not logged in");
  const login = await run(command, [...prefix, "login", "--flow", "device", "--no-browser"], env);
  expect(login.code, login.stderr).toBe(0);
  const storage = withKeyring ? "keychain" : "file";
  expect(login.stderr).toContain(`Logged in as bin-user@example.test (device flow, stored in ${storage})`);
  const status = await run(command, [...prefix, "status", "--json"], env);
  expect(status.code, status.stderr).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({ loggedIn: true, storage });
  const token = await run(command, [...prefix, "token"], env);
  expect(token.code, token.stderr).toBe(0);
  const me = await fetch(`${provider.issuer}/me`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } });
  expect((await me.json()).sub).toBe("bin-user");
  const logout = await run(command, [...prefix, "logout"], env);
  expect(logout.code, logout.stderr).toBe(0);
  expect((await run(command, [...prefix, "status"], env)).code).toBe(1);
}

describe("bun build --compile", () => {
  it("builds a binary that logs in with the device flow and keeps the session in the keychain or the file", async () => {
    const binary = join(work, "my-cli-bun");
    const built = await build(BUN, ["build", "--compile", CLI, "--outfile", binary]);
    expect(built.code, built.stderr).toBe(0);
    await exercise(binary, [], "bun-keychain", true);
    await exercise(binary, [], "bun-file", false);
  });
});

describe("deno bundle (stand-in for deno compile)", () => {
  it("bundles the whole module graph, and the bundle logs in under Deno", async () => {
    const bundle = join(work, "my-cli.bundle.js");
    const built = await build(DENO, ["bundle", "--quiet", CLI, "-o", bundle]);
    expect(built.code, built.stderr).toBe(0);
    await exercise(DENO, ["run", "-A", "--quiet", bundle], "deno-bundle", true);
  });
});

/** Where `deno compile` would find its runtime without downloading it. */
function denortAvailable(): string | undefined {
  if (process.env.DENORT_BIN && existsSync(process.env.DENORT_BIN)) return process.env.DENORT_BIN;
  const denoDir = process.env.DENO_DIR ?? join(homedir(), ".cache", "deno");
  const releases = join(denoDir, "dl", "release");
  if (!existsSync(releases)) return undefined;
  for (const version of readdirSync(releases)) {
    const found = readdirSync(join(releases, version)).find((file) => file.startsWith("denort"));
    if (found) return join(releases, version, found);
  }
  return undefined;
}

describe("deno compile", () => {
  const denort = denortAvailable();
  it.skipIf(!denort)(
    `builds a binary that logs in${denort ? "" : " (skipped: no denort runtime; set DENORT_BIN or cache it with one online `deno compile`)"}`,
    async () => {
      const binary = join(work, "my-cli-deno");
      const built = await build(DENO, ["compile", "-A", "--quiet", "--output", binary, CLI]);
      expect(built.code, built.stderr).toBe(0);
      await exercise(binary, [], "deno-compile", true);
    },
  );
});
