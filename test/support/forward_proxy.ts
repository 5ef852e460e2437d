// A real forward proxy (test/support/proxy_server.mjs: the `proxy` npm package in a Node child process) that maps
// the tests' private host names to 127.0.0.1 and reports every tunnel (CONNECT) and proxied request it sees.
import { fileURLToPath } from "node:url";
import { startJsonLineChild } from "./json_line_child.ts";

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
  const tunnels: string[] = [];
  const requests: string[] = [];
  const refused: number[] = [];
  const child = await startJsonLineChild(
    "proxy",
    script,
    options,
    (line) => (typeof line.port === "number" ? (line.port as number) : undefined),
    (line) => {
      if (line.connect) tunnels.push(line.connect);
      if (line.request) requests.push(line.request);
      if (line.refused) refused.push(line.refused);
    },
  );
  const port = child.ready;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels,
    requests,
    refused,
    close: child.close,
  };
}
