// A real forward proxy (test/support/proxy_server.mjs: the `proxy` npm package in a Node child process) that maps
// the tests' private host names to 127.0.0.1 and reports every tunnel (CONNECT) and proxied request it sees.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { NODE } from "./provider.ts";

export interface ForwardProxyOptions {
  /** Host names only this proxy resolves, and their addresses. */
  hosts?: Record<string, string>;
  /** "user:password" the proxy insists on (Basic); others are answered 407. */
  credentials?: string;
  /** Answer every CONNECT with this status (a proxy that refuses tunnels). */
  refuse?: number;
}

export interface ForwardProxy {
  /** `http://127.0.0.1:<port>` (no credentials). */
  url: string;
  port: number;
  /** Tunnel targets (`host:port`) in the order they were asked for, refused ones included. */
  readonly tunnels: string[];
  /** Plain-HTTP requests proxied (absolute URLs). */
  readonly requests: string[];
  /** Statuses of the requests the proxy refused. */
  readonly refused: number[];
  close(): Promise<void>;
}

const script = fileURLToPath(new URL("./proxy_server.mjs", import.meta.url));

export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const child: ChildProcess = spawn(NODE, [script, JSON.stringify(options)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  const tunnels: string[] = [];
  const requests: string[] = [];
  const refused: number[] = [];
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`proxy did not start in 15 s:\n${stderr}`)), 15_000);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (typeof line.port === "number") {
          clearTimeout(timer);
          resolve(line.port);
        }
        if (line.connect) tunnels.push(line.connect);
        if (line.request) requests.push(line.request);
        if (line.refused) refused.push(line.refused);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited with ${code}:\n${stderr}`));
    });
  });
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels,
    requests,
    refused,
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
