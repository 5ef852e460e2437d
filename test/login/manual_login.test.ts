// Manual paste end to end: the example CLI runs in a child process on this runtime, prints the authorization URL,
// and reads the redirected URL from stdin.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizeWithoutBrowser } from "../support/interact.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { runScript } from "../support/run_script.ts";

const CLI = fileURLToPath(new URL("../../examples/my_cli.ts", import.meta.url));
let provider: TestProvider;
let configHome: string;

beforeAll(async () => {
  provider = await startProvider();
  configHome = mkdtempSync(join(tmpdir(), "cli-auth-manual-"));
});
afterAll(async () => {
  await provider?.close();
  rmSync(configHome, { recursive: true, force: true });
});

function cli(args: string[], options: Parameters<typeof runScript>[1] = {}) {
  return runScript(CLI, {
    args,
    timeoutMs: 30_000,
    ...options,
    env: {
      MYCLI_ISSUER: provider.issuer,
      MYCLI_CLIENT_ID: "cli",
      MYCLI_STORAGE: "file",
      MYCLI_ALLOW_INSECURE: "1",
      XDG_CONFIG_HOME: configHome,
      DBUS_SESSION_BUS_ADDRESS: undefined,
      ...options.env,
    },
  });
}

/** Runs `login --flow manual`, signs in with the scripted user, and pastes what `edit` makes of the callback URL. */
function manualLogin(profile: string, edit: (callback: URL) => string) {
  let pasted = false;
  return cli(["login", "--flow", "manual", "--no-browser", "--profile", profile], {
    keepStdinOpen: true,
    onStderr: (_chunk, all, stdin) => {
      if (pasted || !all.includes("> ")) return;
      pasted = true;
      const url = /https?:\/\/\S+\/auth\?\S+/.exec(all)![0];
      void authorizeWithoutBrowser(url).then((callback) => stdin.end(`${edit(callback)}\n`));
    },
  });
}

describe("login({ flow: \"manual\" }) in the example CLI", () => {
  it("exchanges the pasted redirect URL for tokens and stores the session", async () => {
    const result = await manualLogin("paste", (callback) => callback.href);
    expect(result.stderr).toContain("Paste the URL your browser was redirected to");
    expect(result.stderr).toContain("Logged in as alice@example.test (manual flow, stored in file)");
    expect(result.code).toBe(0);
    const status = await cli(["status", "--json", "--profile", "paste"]);
    expect(JSON.parse(status.stdout)).toMatchObject({ loggedIn: true, profile: "paste", storage: "file" });
  });

  it("accepts just the code", async () => {
    const result = await manualLogin("code-only", (callback) => callback.searchParams.get("code")!);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("Logged in as alice@example.test");
  });

  it("rejects a pasted URL with another state (state_mismatch) and stores nothing", async () => {
    const result = await manualLogin("forged", (callback) => {
      callback.searchParams.set("state", "forged-state");
      return callback.href;
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("(state_mismatch)");
    const status = await cli(["status", "--json", "--profile", "forged"]);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout).loggedIn).toBe(false);
    const file = readFileSync(join(configHome, "my-cli", "credentials.json"), "utf8");
    expect(JSON.parse(file)).not.toHaveProperty("forged");
  });
});
