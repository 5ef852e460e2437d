/**
 * The loopback listener on Node: `node:http` (loaded on first use) mapped onto `Request -> Response`, as Hono's
 * node-server does. Bounded: small header limit, short header/request timeouts against slow clients, no bodies.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Listen } from "../../src/contracts.ts";
import { CLOSE_GRACE_MS } from "../../src/login/loopback_server.ts";

/** Largest request head accepted, in bytes. */
export const MAX_HEADER_BYTES = 8 * 1024;

function toRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // A header the Fetch API cannot hold is dropped; the handler sees the request without it.
    }
  }
  // The URL is built on the bound origin, never on the client's Host header; the handler checks Host itself.
  // The target is appended to the origin as a path, as Bun and Deno read it: resolved against a base instead,
  // `//evil.test/callback` would be a network-path reference whose host is evil.test and whose path is /callback.
  let path = req.url ?? "/";
  if (!path.startsWith("/")) path = "/";
  let url: URL;
  try {
    url = new URL(`${origin}${path}`);
  } catch {
    url = new URL("/", origin);
  }
  return new Request(url, { method: req.method ?? "GET", headers });
}

async function send(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((resolve) => res.once("drain", resolve));
    }
  } finally {
    res.end();
  }
}

/**
 * Serves `handler` on `hostname:port` with `node:http`.
 *
 * @example Usage
 * ```ts
 * import { listen } from "./listener.ts";
 * const listener = await listen({ hostname: "127.0.0.1", port: 0, handler: () => new Response("hi") });
 * await listener.close();
 * ```
 */
export const listen: Listen = async ({ hostname, port, handler }) => {
  const { createServer } = await import("node:http");
  const server = createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: 10_000,
    requestTimeout: 15_000,
    keepAliveTimeout: 1_000,
  });
  const origin = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}`;
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    // Bodies are never read: the callback is a GET. Drop whatever a client sends.
    req.resume();
    let request: Request;
    try {
      request = toRequest(req, `${origin}:${(server.address() as { port: number }).port}`);
    } catch {
      // A request the Fetch API cannot hold (TRACE, CONNECT, TRACK are forbidden methods): not ours to answer.
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end("Bad request.\n");
      return;
    }
    let response: Response;
    Promise.resolve()
      .then(() => handler(request))
      .then((r) => {
        response = r;
        return send(response, res);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end();
      });
  });
  server.on("clientError", (_error: Error, socket: import("node:net").Socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen({ port, host: hostname, exclusive: true }, () => {
      server.off("error", onError);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      timer.unref();
      server.once("close", () => clearTimeout(timer));
    });
  return { port: (server.address() as { port: number }).port, close };
};
