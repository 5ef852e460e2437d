// The one-command demo: `npm run demo` (runs this with Bun) or `deno task demo`.
//
// Starts a local OpenID provider on 127.0.0.1 (oidc-provider, the same set-up the tests use; its login page accepts
// any user name and password), then runs the example CLI (examples/my_cli.ts) against it: `login` — the browser
// opens on a desktop, the device flow prints a code on a headless machine — then `whoami`, `status` and `logout`.
// Nothing to configure; credentials go to a temporary config folder that is removed at the end (or the OS keychain
// when one is running, under the service name "my-cli").
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const PROVIDER = here("../test/support/provider_server.mjs");
const CLI = here("./my_cli.ts");

const g = globalThis as unknown as {
  Deno?: { execPath(): string };
  process: { execPath: string; env: Record<string, string | undefined>; exitCode?: number };
};
const process = g.process;

/** How to run a TypeScript file with the runtime running this demo. */
function tsCommand(file: string, args: string[]): [string, string[]] {
  if (g.Deno) return [g.Deno.execPath(), ["run", "-A", "--quiet", file, ...args]];
  return [process.execPath, [file, ...args]];
}

function startProvider(): Promise<{ issuer: string; stop(): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", [PROVIDER, JSON.stringify({ deviceInterval: 1 })], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf("\n");
      if (newline >= 0) {
        const { issuer } = JSON.parse(stdout.slice(0, newline)) as { issuer: string };
        resolve({ issuer, stop: () => child.kill("SIGTERM") });
      }
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the demo provider exited (${code}):\n${stderr}`)));
  });
}

function cli(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const [command, fullArgs] = tsCommand(CLI, args);
  console.error(`\n$ my-cli ${args.join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, fullArgs, { stdio: "inherit", env: { ...process.env, ...env } });
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

const provider = await startProvider();
const configHome = mkdtempSync(join(tmpdir(), "my-cli-demo-"));
const env = {
  MYCLI_ISSUER: provider.issuer,
  MYCLI_CLIENT_ID: "cli",
  MYCLI_ALLOW_INSECURE: "1",
  XDG_CONFIG_HOME: configHome,
};
console.error(`Local OpenID provider: ${provider.issuer} (sign in with any user name and password)`);
try {
  const steps = [["login"], ["whoami"], ["status"], ["logout"]];
  for (const step of steps) {
    const code = await cli(step, env);
    if (code !== 0) {
      console.error(`\nThe demo stopped: \`my-cli ${step.join(" ")}\` exited with ${code}.`);
      process.exitCode = code;
      break;
    }
  }
} finally {
  provider.stop();
  rmSync(configHome, { recursive: true, force: true });
}
