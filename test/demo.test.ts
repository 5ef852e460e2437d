// The one-command demo, run headless: it starts its own provider and the example CLI; the test plays the user on
// "another device" and approves the device code; whoami must then print the user.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { approveDevice } from "./support/interact.ts";
import { DENO, ROOT } from "./support/run_script.ts";
import { runtimeKey } from "./support/runtime.ts";

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // `deno task demo` on Deno; `npm run demo` (which runs it on Bun) otherwise.
  const [command, args] = runtimeKey() === "deno" ? [DENO, ["task", "--quiet", "demo"]] : ["npm", ["run", "--silent", "demo"]];
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  // A headless machine: CI, no display, no Secret Service.
  Object.assign(env, { CI: "1" });
  for (const name of ["DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "BROWSER"]) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let approved = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the demo did not finish in 60 s\n${stderr}`));
    }, 60_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => void (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      const issuer = /Local OpenID provider: (http:\/\/\S+)/.exec(stderr)?.[1];
      const userCode = /user_code=([\w-]+)/.exec(stderr)?.[1];
      if (!approved && issuer && userCode) {
        approved = true;
        void approveDevice(issuer, userCode, { login: "demo-user" });
      }
    });
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("npm run demo", () => {
  it("logs in with the device flow on a headless machine, then whoami prints the user", async () => {
    const { code, stdout, stderr } = await runDemo();
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("To sign in, open this page");
    expect(stderr).toContain("Logged in as demo-user@example.test (device flow, stored in file)");
    expect(stdout).toContain("demo-user@example.test");
    expect(stdout).toContain("Logged in as demo-user@example.test");
    expect(stderr).toContain("Logged out.");
  });
});
