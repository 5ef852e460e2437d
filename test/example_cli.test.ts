// The example CLI (examples/my_cli.ts) driven as an agent or a script drives it (issue 19): child processes on this
// runtime against the real provider, the credentials file in a temp folder. `login --json` begins and exits,
// `login --resume [--wait]` finishes, `login --with-token` reads stdin (and refuses a terminal: the child gets a
// pseudo-terminal as stdin from util-linux `script`), and `--json` on status, whoami and token.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approveDevice, authorizeWithoutBrowser } from "./support/interact.ts";
import { startProvider, type TestProvider } from "./support/provider.ts";
import { ROOT, runScript, scriptCommand } from "./support/run_script.ts";

const CLI = fileURLToPath(new URL("../examples/my_cli.ts", import.meta.url));
let provider: TestProvider;
let configHome: string;

beforeAll(async () => {
  provider = await startProvider({ deviceInterval: 1 });
  configHome = mkdtempSync(join(tmpdir(), "cli-auth-example-cli-"));
});
afterAll(async () => {
  await provider?.close();
  rmSync(configHome, { recursive: true, force: true });
});

const env = () => ({
  MYCLI_ISSUER: provider.issuer,
  MYCLI_CLIENT_ID: "cli",
  MYCLI_STORAGE: "file",
  MYCLI_ALLOW_INSECURE: "1",
  XDG_CONFIG_HOME: configHome,
  XDG_RUNTIME_DIR: configHome,
  DBUS_SESSION_BUS_ADDRESS: undefined,
});

function cli(args: string[], stdin?: string, issuer = provider.issuer) {
  return runScript(CLI, { args, stdin, timeoutMs: 30_000, env: { ...env(), MYCLI_ISSUER: issuer } });
}

/** The stored value of `key` in the credentials file, parsed. */
function stored(key: string): Record<string, unknown> | undefined {
  const { profiles } = JSON.parse(readFileSync(join(configHome, "my-cli", "credentials.json"), "utf8"));
  const value = profiles[key];
  return typeof value === "string" ? JSON.parse(value) : value;
}

describe("the example CLI, driven by an agent", () => {
  it("login --json begins and exits; login --resume reports it pending; --resume --wait finishes; --json on status, whoami, token", async () => {
    const begun = await cli(["login", "--json", "--profile", "agent"]);
    expect(begun.code, begun.stderr).toBe(0);
    const pending = JSON.parse(begun.stdout);
    expect(pending).toMatchObject({ flow: "device", verificationUri: `${provider.issuer}/device`, interval: 1 });
    const deviceCode = stored("pending-login:agent")!.deviceCode as string;
    expect(`${begun.stdout}${begun.stderr}`).not.toContain(deviceCode);

    const early = await cli(["login", "--resume", "--profile", "agent"]);
    expect(early.code, early.stderr).toBe(0);
    expect(JSON.parse(early.stdout)).toEqual({ done: false, pending });
    expect(JSON.parse((await cli(["status", "--json", "--profile", "agent"])).stdout)).toMatchObject({
      loggedIn: false,
      pendingLogin: { flow: "device", userCode: pending.userCode },
    });

    setTimeout(() => void approveDevice(provider.issuer, pending.userCode, { login: "agent-smith" }), 500);
    const done = await cli(["login", "--resume", "--wait", "--profile", "agent"]);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ done: true, flow: "device", user: { sub: "agent-smith" } });
    const session = stored("agent")!;
    const tokens = session.tokens as Record<string, string>;
    expect(done.stdout).not.toContain(tokens.accessToken);

    const status = await cli(["status", "--json", "--profile", "agent"]);
    expect(JSON.parse(status.stdout)).toMatchObject({ loggedIn: true, profile: "agent", storage: "file", refreshable: true });
    expect(JSON.parse(status.stdout).pendingLogin).toBeUndefined();
    const whoami = await cli(["whoami", "--json", "--profile", "agent"]);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ sub: "agent-smith", email: "agent-smith@example.test" });
    const token = await cli(["token", "--json", "--profile", "agent"]);
    expect(JSON.parse(token.stdout)).toEqual({ token: tokens.accessToken, source: "oauth" });
    for (const output of [begun, early, done, status, whoami]) {
      for (const secret of [deviceCode, tokens.accessToken!, tokens.refreshToken!]) expect(output.stdout + output.stderr).not.toContain(secret);
    }
  });

  it("login --json --flow manual, then login --resume with the redirect URL on stdin", async () => {
    const begun = await cli(["login", "--json", "--flow", "manual", "--profile", "paste"]);
    const pending = JSON.parse(begun.stdout);
    expect(pending.flow).toBe("manual");
    const callback = await authorizeWithoutBrowser(pending.authorizationUrl, { login: "paste-agent" });
    const done = await cli(["login", "--resume", "--profile", "paste"], `${callback.href}\n`);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ done: true, flow: "manual", user: { sub: "paste-agent" } });
  });

  it("login --cancel forgets a pending login; --json errors are JSON on stdout (exit 1)", async () => {
    await cli(["login", "--json", "--profile", "cancel"]);
    expect(JSON.parse((await cli(["login", "--cancel", "--json", "--profile", "cancel"])).stdout)).toEqual({ cancelled: true });
    const resumed = await cli(["login", "--resume", "--json", "--profile", "cancel"]);
    expect(resumed.code).toBe(1);
    expect(JSON.parse(resumed.stdout)).toEqual({
      error: { code: "no_pending_login", message: 'No sign-in is pending for profile "cancel"', hint: "Run `my-cli login` to begin one" },
    });
    expect(resumed.stderr).toContain("(no_pending_login)");
  });

  it("login --resume reports an expired device code as device_code_expired, not as nothing pending", async () => {
    const shortLived = await startProvider({ deviceInterval: 1, deviceCodeTtl: 2 });
    try {
      for (const args of [["login", "--resume", "--json"], ["login", "--resume", "--wait", "--json"]]) {
        const begun = await cli(["login", "--json", "--profile", "expiring"], undefined, shortLived.issuer);
        expect(begun.code, begun.stderr).toBe(0);
        const { expiresAt } = JSON.parse(begun.stdout) as { expiresAt: number };
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 300));
        const resumed = await cli([...args, "--profile", "expiring"], undefined, shortLived.issuer);
        expect(resumed.code, args.join(" ")).toBe(1);
        expect(JSON.parse(resumed.stdout).error.code, resumed.stdout).toBe("device_code_expired");
        // Expired, the pending login is forgotten: a second resume finds none.
        const after = await cli(["login", "--resume", "--json", "--profile", "expiring"], undefined, shortLived.issuer);
        expect(JSON.parse(after.stdout).error.code).toBe("no_pending_login");
      }
    } finally {
      await shortLived.close();
    }
  });

  it("login --with-token keeps the token piped in; token --json and status --json see it", async () => {
    const given = await cli(["login", "--with-token", "--profile", "pat"], "pat-0123456789abcdef\n");
    expect(given.code, given.stderr).toBe(0);
    expect(given.stderr).toContain("Logged in with the given token (stored in file).");
    expect(given.stdout + given.stderr).not.toContain("pat-0123456789abcdef");
    expect(JSON.parse((await cli(["token", "--json", "--profile", "pat"])).stdout)).toEqual({ token: "pat-0123456789abcdef", source: "stored" });
    expect(JSON.parse((await cli(["status", "--json", "--profile", "pat"])).stdout)).toMatchObject({ loggedIn: true, refreshable: false });
    const empty = await cli(["login", "--with-token", "--json", "--profile", "empty"], "\n");
    expect(empty.code).toBe(1);
    expect(JSON.parse(empty.stdout).error.code).toBe("invalid_options");
  });

  it("login --with-token refuses a terminal on stdin with a usage error (exit 2), without waiting for input", async () => {
    const [command, args] = await scriptCommand(CLI);
    const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const line = [command, ...args, "login", "--with-token", "--profile", "tty"].map(quote).join(" ");
    const childEnv: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...process.env, ...env() })) if (value !== undefined) childEnv[key] = value;
    // `script` runs the command with a pseudo-terminal as its stdin, stdout and stderr; -e passes its exit code on.
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn("script", ["-qec", line, "/dev/null"], { cwd: ROOT, env: childEnv, stdio: ["pipe", "pipe", "pipe"] });
      let output = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`no exit in 20 s: ${output}`));
      }, 20_000);
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => void (output += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => void (output += chunk));
      child.once("error", reject);
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
    expect(code, output).toBe(2);
    expect(output).toContain("--with-token reads the token from stdin");
    expect(JSON.parse((await cli(["status", "--json", "--profile", "tty"])).stdout).loggedIn).toBe(false);
  });
});
