// Runs a TypeScript file with the `bun` from node_modules, whatever runtime runs the test: Bun and Deno run .ts
// directly and Node 20 cannot, so child processes of the tests are always Bun processes.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BUN = fileURLToPath(new URL("../../node_modules/.bin/bun", import.meta.url));

export function runBun(
  script: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) merged[key] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(BUN, [fileURLToPath(new URL(script, import.meta.url)), ...args], {
      env: merged,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => void (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
