// A helper server of the test rig in a Node child process that reports on stdout, one JSON object per line: started
// once its ready line arrives, every other line handed to the caller, killed if it does not start in time, closed
// with SIGTERM (SIGKILL 2 s later).
import { type ChildProcess, spawn } from "node:child_process";
import { NODE } from "./provider.ts";

export interface JsonLineChild<Ready> {
  /** What the ready line said. */
  ready: Ready;
  close(): Promise<void>;
}

/**
 * Starts `script` with `argument` as its one argument.
 *
 * @param name what to call it in errors ("proxy", "document server")
 * @param readyOf the ready value a line carries, or `undefined` for other lines
 * @param onLine called with every line (the ready one too)
 */
export async function startJsonLineChild<Ready>(
  name: string,
  script: string,
  argument: unknown,
  readyOf: (line: any) => Ready | undefined,
  onLine: (line: any) => void = () => {},
): Promise<JsonLineChild<Ready>> {
  const child: ChildProcess = spawn(NODE, [script, JSON.stringify(argument)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
  const ready = await new Promise<Ready>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start in 15 s:\n${stderr}`));
    }, 15_000);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        const value = readyOf(line);
        if (value !== undefined) {
          clearTimeout(timer);
          resolve(value);
        }
        onLine(line);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${stderr}`));
    });
  });
  let closed: Promise<void> | undefined;
  return {
    ready,
    close() {
      closed ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 2_000).unref?.();
      });
      return closed;
    },
  };
}
