// A helper server of the test rig in a Node child process that reports on stdout, one JSON object per line (other
// lines are ignored): started
// once its ready line arrives, every other line handed to the caller, killed if it does not start in time, closed
// with SIGTERM (SIGKILL 2 s later).
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";

/** The Node binary the rig's helper servers run on (oidc-provider needs Node, whatever runtime runs the tests). */
export const NODE = process.env.CLI_AUTH_TEST_NODE ?? "node";

export interface JsonLineChild<Ready> {
  /** What the ready line said. */
  ready: Ready;
  /** What the child wrote to stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/**
 * Starts `script` with `argument` as its one argument.
 *
 * @param name what to call it in errors ("proxy", "document server")
 * @param readyOf the ready value a line carries, or `undefined` for other lines
 * @param onLine called with every line (the ready one too)
 * @param options more environment variables; how long it may take to start (default 15 s: then it is killed)
 */
export async function startJsonLineChild<Ready>(
  name: string,
  script: string,
  argument: unknown,
  readyOf: (line: any) => Ready | undefined,
  onLine: (line: any) => void = () => {},
  options: { env?: Record<string, string>; startTimeoutMs?: number } = {},
): Promise<JsonLineChild<Ready>> {
  const { env = {}, startTimeoutMs = 15_000 } = options;
  const child: ChildProcess = spawn(NODE, [script, JSON.stringify(argument)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "", ...env },
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
  const ready = await new Promise<Ready>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start in ${startTimeoutMs / 1000} s:\n${stderr}`));
    }, startTimeoutMs);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const text = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let line: any;
        try {
          line = JSON.parse(text);
        } catch {
          continue; // not a report (a dependency printing to stdout)
        }
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
    stderr: () => stderr,
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
