// No secret leaks, seen from outside: a CLI process (test/fixtures/leaky_cli.ts, on this runtime) signs in with
// the browser flow (opened the default way), keeps its session in a real keychain (a private gnome-keyring through
// secret-tool; Bun.secrets on Bun), and then fails against a server that quotes every request back. Everything it
// writes to stdout and stderr — the runtime's own print of an uncaught error included — and the argv of every
// command it starts (xdg-open and secret-tool are shims on PATH that log their arguments, then run the real
// tool) must hold none of the secrets that went over the wire. The same goes for the argv the keychain backends
// of macOS and Windows would run, driven by CliAuth through recording runners.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keychainStore, runCommand } from "../../adapters/mod.ts";
import type { CommandRunner } from "../../adapters/mod.ts";
import { CliAuth } from "../../mod.ts";
import { fakePowershell } from "../support/fake_powershell.ts";
import { fakeSecurity } from "../support/fake_security.ts";
import { approveDevice, authorizeWithoutBrowser } from "../support/interact.ts";
import { startKeyring, type TestKeyring } from "../support/keyring.ts";
import { loginWithoutBrowser, testOptions } from "../support/login.ts";
import { runScript } from "../support/run_script.ts";
import { type FaultyProvider, startFaultyProvider } from "./fault_proxy.ts";
import { SecretSet } from "./secrets.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/leaky_cli.ts", import.meta.url));
const CLIENT_ID = "leaky-cli";
const CLIENT_SECRET = "cs-LEAK-installed-app-secret-fedcba9876543210";

let faulty: FaultyProvider;
let keyring: TestKeyring;
let dir: string;

beforeAll(async () => {
  [faulty, keyring] = await Promise.all([
    startFaultyProvider({
      extraClients: [{
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        application_type: "native",
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        redirect_uris: ["http://127.0.0.1/callback"],
      }],
    }),
    startKeyring(),
  ]);
  dir = mkdtempSync(join(tmpdir(), "cli-auth-leaks-"));
});
afterAll(async () => {
  await Promise.all([faulty?.close(), keyring?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A folder of commands that append their name and arguments (NUL-separated) to `log`, then do `then`. */
function shims(log: string, commands: Record<string, string>): string {
  const bin = mkdtempSync(join(dir, "bin-"));
  for (const [name, then] of Object.entries(commands)) {
    const path = join(bin, name);
    writeFileSync(path, `#!/bin/sh\nprintf '%s\\0' "${name}" "$@" >> '${log}'\nprintf '\\n' >> '${log}'\n${then}\n`);
    chmodSync(path, 0o755);
  }
  return bin;
}

function realSecretTool(): string {
  for (const candidate of ["/usr/bin/secret-tool", "/usr/local/bin/secret-tool", "/bin/secret-tool"]) {
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error("secret-tool is not installed (Debian: libsecret-tools)");
}

describe("a CLI process failing in every way prints no secret and passes none in argv", () => {
  it("login, refresh, whoami, relogin and logout against an echoing server, then an uncaught error", async () => {
    const argvLog = join(dir, "argv.log");
    writeFileSync(argvLog, "");
    const bin = shims(argvLog, { "xdg-open": "exit 0", "secret-tool": `exec '${realSecretTool()}' "$@"` });
    faulty.clear();
    faulty.setRules([
      { path: "/token", fault: { kind: "pass" }, times: 1 },
      { path: "/token", fault: { kind: "reflect", status: 400, error: "invalid_request" } },
      { path: "/me", fault: { kind: "reflect", status: 401, error: "invalid_token", challenge: true } },
      { path: "/token/revocation", fault: { kind: "reflect", status: 400, error: "invalid_request" } },
    ]);
    const authorized = new Set<string>();
    const result = await runScript(FIXTURE, {
      timeoutMs: 60_000,
      env: {
        ISSUER: faulty.issuer,
        CLIENT_ID,
        CLIENT_SECRET,
        SERVICE: `cli-auth-leaks-${process.pid}`,
        PATH: `${bin}:${process.env.PATH}`,
        ...keyring.env,
        BROWSER: undefined,
        DISPLAY: ":0",
        XDG_CONFIG_HOME: join(dir, "config"),
      },
      onStderr: (_chunk, all) => {
        // The library prints the authorization URL; the test is the user's browser.
        for (const [url] of all.matchAll(/http:\/\/127\.0\.0\.1:\d+\/auth\?\S+/g)) {
          if (authorized.has(url)) continue;
          authorized.add(url);
          void authorizeWithoutBrowser(url).then(async (callback) => void (await (await fetch(callback)).text()));
        }
      },
    });
    const output = `${result.stdout}\n${result.stderr}`;
    // Every step ran and failed as planned; the last error was printed by the runtime itself.
    expect(result.stdout).toMatch(/login ok/);
    expect(result.stdout).toMatch(/refresh invalid_request/);
    expect(result.stdout).toMatch(/whoami invalid_request/);
    expect(result.stdout).toMatch(/relogin invalid_request/);
    expect(result.stdout).toMatch(/logout ok \{"revoked":false,"hadSession":true\}/);
    expect(result.stdout).toMatch(/uncaught next/);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/not_logged_in|Not logged in/);
    expect(output).toContain("[redacted]");

    const argv = readFileSync(argvLog, "utf8");
    const invocations = argv.split("\n").filter(Boolean).map((line) => line.split("\0").filter(Boolean));
    // The browser was opened with the authorization URL as one argument, twice.
    expect(invocations.filter(([name]) => name === "xdg-open")).toHaveLength(2);
    if (process.versions.bun === undefined) {
      // Node and Deno keep the session through secret-tool (Bun uses Bun.secrets, no command).
      expect(invocations.filter(([name, action]) => name === "secret-tool" && action === "store").length).toBeGreaterThan(0);
    }

    const secrets = new SecretSet();
    secrets.add("client secret", CLIENT_SECRET);
    secrets.addTraffic(faulty.seen);
    const labels = secrets.labels().join("\n");
    for (const kind of ["code sent", "code_verifier sent", "refresh_token from", "access_token from", "client secret"]) {
      expect(labels).toContain(kind);
    }
    expect(secrets.foundIn(output).map((label) => `${label} in the output`)).toEqual([]);
    expect(secrets.foundIn(argv).map((label) => `${label} in an argv`)).toEqual([]);
  });
});

describe("an agent driving the example CLI's sign-in sees no secret", () => {
  it("login --json, --resume, --resume --wait, --with-token, status/whoami --json, and resume errors from an echoing server", async () => {
    const CLI = fileURLToPath(new URL("../../examples/my_cli.ts", import.meta.url));
    const PAT = "pat-LEAK-given-token-0123456789abcdef";
    faulty.setRules([]);
    faulty.clear();
    const outputs: string[] = [];
    const cli = async (args: string[], stdin?: string) => {
      const result = await runScript(CLI, {
        args,
        stdin,
        timeoutMs: 30_000,
        env: {
          MYCLI_ISSUER: faulty.issuer,
          MYCLI_CLIENT_ID: "cli",
          MYCLI_STORAGE: "file",
          MYCLI_ALLOW_INSECURE: "1",
          XDG_CONFIG_HOME: join(dir, "agent-config"),
          XDG_RUNTIME_DIR: dir,
        },
      });
      outputs.push(result.stdout, result.stderr);
      return result;
    };
    const pending = JSON.parse((await cli(["login", "--json"])).stdout);
    expect(JSON.parse((await cli(["login", "--resume"])).stdout).done).toBe(false);
    await approveDevice(faulty.issuer, pending.userCode, { login: "agent" });
    expect(JSON.parse((await cli(["login", "--resume", "--wait"])).stdout).done).toBe(true);
    expect(JSON.parse((await cli(["status", "--json"])).stdout).loggedIn).toBe(true);
    expect(JSON.parse((await cli(["whoami", "--json"])).stdout).sub).toBe("agent");
    // A token endpoint that repeats the device code back.
    await cli(["login", "--json", "--profile", "echo"]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    faulty.setRules([{ path: "/token", fault: { kind: "reflect", status: 400, error: "invalid_request", challenge: true } }]);
    const echoed = await cli(["login", "--resume", "--json", "--profile", "echo"]);
    faulty.setRules([]);
    expect(JSON.parse(echoed.stdout).error.code).toBe("invalid_request");
    expect(echoed.stdout).toContain("[redacted]");
    // Manual: a forged state pasted back.
    const manual = JSON.parse((await cli(["login", "--json", "--flow", "manual", "--profile", "paste"])).stdout);
    const callback = await authorizeWithoutBrowser(manual.authorizationUrl);
    const code = callback.searchParams.get("code");
    callback.searchParams.set("state", "forged");
    expect(JSON.parse((await cli(["login", "--resume", "--json", "--profile", "paste"], callback.href)).stdout).error.code)
      .toBe("state_mismatch");
    // A token given on stdin.
    expect((await cli(["login", "--with-token", "--json", "--profile", "pat"], `${PAT}\n`)).code).toBe(0);
    expect(JSON.parse((await cli(["status", "--json", "--profile", "pat"])).stdout).loggedIn).toBe(true);

    const secrets = new SecretSet();
    secrets.add("given token", PAT);
    secrets.add("pasted code", code);
    secrets.addTraffic(faulty.seen);
    const labels = secrets.labels().join("\n");
    for (const kind of ["device_code from /device/auth", "access_token from", "refresh_token from"]) {
      expect(labels).toContain(kind);
    }
    expect(secrets.foundIn(outputs.join("\n")).map((label) => `${label} in the output`)).toEqual([]);
  });
});

describe("the keychain backends pass secrets on stdin only", () => {
  it("a whole session lifecycle through CliAuth on macOS, Windows and Linux keychains: no secret in any argv", async () => {
    const security = fakeSecurity();
    const powershell = fakePowershell();
    const linuxCalls: { command: string; args: readonly string[] }[] = [];
    const linuxRunner: CommandRunner = (command, args, options) => {
      linuxCalls.push({ command, args });
      return runCommand(command, args, { ...options, env: { ...options?.env, ...keyring.env } });
    };
    const stores = [
      keychainStore({ service: `cli-auth-argv-mac-${process.pid}`, platform: "darwin", runner: security.runner }),
      keychainStore({ service: `cli-auth-argv-win-${process.pid}`, platform: "win32", runner: powershell.runner }),
      keychainStore({ service: `cli-auth-argv-linux-${process.pid}`, platform: "linux", runner: linuxRunner }),
    ];
    faulty.setRules([]);
    faulty.clear();
    for (const storage of stores) {
      const auth = new CliAuth(testOptions(faulty.issuer, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, storage }));
      await loginWithoutBrowser(auth);
      await auth.getAccessToken({ forceRefresh: true });
      await auth.whoami();
      // A session too large for one secret-tool item is split into parts: those go through argv-free stores too.
      const session = await auth.getSession();
      await storage.set("big", JSON.stringify({ ...session, padding: "p".repeat(20_000) }));
      expect(JSON.parse((await storage.get("big"))!).tokens.refreshToken).toBe(session!.tokens.refreshToken);
      await storage.delete("big");
      await auth.logout();
    }
    const secrets = new SecretSet();
    secrets.add("client secret", CLIENT_SECRET);
    secrets.addTraffic(faulty.seen);
    const argvs = [
      ...security.calls.map((c) => ["security", ...c.args]),
      ...powershell.calls.map((c) => [c.command, ...c.args]),
      ...linuxCalls.map((c) => [c.command, ...c.args]),
    ];
    expect(security.calls.length).toBeGreaterThan(3);
    expect(powershell.calls.length).toBeGreaterThan(3);
    expect(linuxCalls.length).toBeGreaterThan(3);
    expect(secrets.foundIn(argvs.map((argv) => argv.join("\0")).join("\n"))).toEqual([]);
    // …and they did travel, on stdin.
    const stdin = [...security.calls, ...powershell.calls].map((c) => c.options?.stdin ?? "").join("\n");
    expect(stdin.length).toBeGreaterThan(1_000);
  });
});
