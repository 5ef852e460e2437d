// The file-fallback warning of `storage: "auto"`, seen from outside: CLI processes (on this runtime) on a machine
// whose keychain cannot be used (no D-Bus session, so no Secret Service; Bun.secrets has none either). The warning
// is said once, by the login that first writes a session to the file, and names the file; processes that only
// read (status, whoami, a token), refresh, or find nothing stored stay silent.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noBusEnv } from "./support/keyring.ts";
import { startProvider, type TestProvider } from "./support/provider.ts";
import { runScript } from "./support/run_script.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/file_fallback_cli.ts", import.meta.url));
let provider: TestProvider;
let configHome: string;
let noBus: Awaited<ReturnType<typeof noBusEnv>>;

beforeAll(async () => {
  [provider, noBus] = await Promise.all([startProvider(), noBusEnv()]);
  configHome = mkdtempSync(join(tmpdir(), "cli-auth-fallback-"));
});
afterAll(async () => {
  await Promise.all([provider?.close(), noBus?.cleanup()]);
  if (configHome) rmSync(configHome, { recursive: true, force: true });
});

describe("storage: \"auto\" without a usable keychain", () => {
  it("warns once, naming the file, when a login first stores a session there; reads and refreshes stay silent", async () => {
    const service = `cli-auth-fallback-${Date.now()}`;
    const file = join(configHome, service, "credentials.json");
    const run = async (command: string) => {
      const result = await runScript(FIXTURE, {
        args: [command],
        timeoutMs: 30_000,
        env: { ...noBus.env, XDG_CONFIG_HOME: configHome, ISSUER: provider.issuer, SERVICE: service },
      });
      expect(result.code, result.stderr).toBe(0);
      return { stdout: result.stdout.trim(), stderr: result.stderr };
    };
    const silent = async (command: string, stdout: string | RegExp) => {
      const result = await run(command);
      expect(result.stdout, command).toMatch(stdout);
      expect(result.stderr, `stderr of ${command}`).toBe("");
    };

    // Nothing stored: nothing to warn about.
    await silent("status", "status logged-out file");
    await silent("whoami", "error not_logged_in");
    await silent("token", "error not_logged_in");

    // The login that puts the session into the file says so, once, and where.
    const login = await run("login");
    expect(login.stdout).toBe("login alice");
    const warnings = login.stderr.split("\n").filter(Boolean);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(file);
    expect(warnings[0]).toMatch(/keychain/i);

    // Every later process reads or refreshes the stored session without a word.
    await silent("whoami", "whoami alice");
    await silent("token", "token ok");
    await silent("refresh", "refresh ok");
    await silent("status", "status logged-in file");
    // A login over the stored session does not write it for the first time.
    await silent("login", "login alice");

    // After a logout the file holds no session: the next login stores one for the first time again.
    await silent("logout", /^logout \{"revoked":true/);
    const again = await run("login");
    expect(again.stderr.split("\n").filter(Boolean)).toEqual([warnings[0]]);
  });
});
