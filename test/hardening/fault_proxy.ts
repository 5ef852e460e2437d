// A fault-injecting reverse proxy on 127.0.0.1 in front of the real test provider. The provider's issuer is the
// proxy's address, so everything — discovery, the sign-in pages, token, userinfo, revocation — goes through it, and
// a rule can make any of those misbehave: refuse connections, reset mid-body, never answer, answer 5xx with HTML,
// send broken or huge bodies, or rewrite the provider's JSON (drop access_token, another token_type or issuer).
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { startProvider, type ProviderOptions, type TestProvider } from "../support/provider.ts";

export type Fault =
  /** Answers what the provider answers. */
  | { kind: "pass" }
  /** Sends the provider's head and half its body, then resets the connection (TCP RST). */
  | { kind: "reset-mid-body" }
  /** Reads the request and never answers. */
  | { kind: "no-answer" }
  /** Sends a 200 head announcing a JSON body, a few bytes of it, then nothing more. */
  | { kind: "stall-body" }
  /** Answers with this status and body (no provider involved). */
  | { kind: "respond"; status: number; body: string; contentType?: string }
  /** Answers 200 with `bytes` of JSON-looking filler, with or without Content-Length. */
  | { kind: "huge"; bytes: number; declareLength: boolean }
  /** Forwards, then replaces the provider's JSON body with `edit(json)`. */
  | { kind: "edit-json"; edit: (json: Record<string, unknown>) => unknown }
  /**
   * A server that repeats what it was sent: answers `status` with an OAuth error whose description (and, with
   * `challenge`, a WWW-Authenticate header) quotes the request's body and Authorization header.
   */
  | {
    kind: "reflect";
    status: number;
    error: string;
    challenge?: boolean;
    /** Quotes the request in these body fields too (e.g. `scope`, which becomes an error's `scopes`). */
    alsoIn?: string[];
    /** Rewrites the JSON text of the body as some encoders write it (`\/` for `/`, `\u` escapes). */
    escape?: (json: string) => string;
    /** Rewrites the challenge's quoted `error_description` (e.g. quoted-pairs, `\x` for `x`). */
    escapeChallenge?: (quoted: string) => string;
  };

export interface Rule {
  /** Matches the request path exactly (no query). */
  path: string;
  method?: string;
  fault: Fault;
  /** How many matching requests get the fault (default: all of them). */
  times?: number;
}

/** One request the proxy handled. */
export interface ProxiedRequest {
  method: string;
  path: string;
  fault: Fault["kind"];
  /** The request body as sent by the client (form-encoded token requests: code, verifier, refresh token, secret). */
  body: string;
  /** The Authorization header, if any (Basic client credentials, Bearer or DPoP tokens). */
  authorization?: string;
  /** What the client received, when the provider's answer was passed on (tokens of a successful grant). */
  responseBody?: string;
  /** When the request arrived, and when the client's connection went away (for no-answer), in performance.now() ms. */
  receivedAt: number;
  clientClosedAt?: number;
}

export interface FaultyProvider {
  /** The issuer (the proxy's address). */
  issuer: string;
  provider: TestProvider;
  /** Replaces the rules. */
  setRules(rules: Rule[]): void;
  /** Every request since the last `clear()`. */
  readonly seen: ProxiedRequest[];
  clear(): void;
  /** Stops accepting connections (they are refused) and drops the open ones; `false` listens again. */
  setDown(down: boolean): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as { port: number }).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, "127.0.0.1");
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", () => resolve(Buffer.concat(chunks)));
  });
}

/** Starts the proxy, then the provider behind it with the proxy's address as its issuer. */
export async function startFaultyProvider(options: ProviderOptions = {}): Promise<FaultyProvider> {
  let upstreamPort = 0;
  let rules: Rule[] = [];
  const used = new Map<Rule, number>();
  const seen: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();

  const forward = (req: IncomingMessage, body: Buffer): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const upstream = httpRequest(
        { host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
        resolve,
      );
      upstream.on("error", reject);
      upstream.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const rule = rules.find((r) =>
      r.path === path && (r.method === undefined || r.method === req.method) &&
      (r.times === undefined || (used.get(r) ?? 0) < r.times)
    );
    if (rule) used.set(rule, (used.get(rule) ?? 0) + 1);
    const fault: Fault = rule?.fault ?? { kind: "pass" };
    const body = await readBody(req);
    const entry: ProxiedRequest = {
      method: req.method ?? "GET",
      path,
      fault: fault.kind,
      body: body.toString("utf8"),
      authorization: req.headers.authorization,
      receivedAt: performance.now(),
    };
    if (!path.startsWith("/__test/")) seen.push(entry);

    switch (fault.kind) {
      case "no-answer":
        req.socket.once("close", () => void (entry.clientClosedAt = performance.now()));
        return;
      case "stall-body":
        req.socket.once("close", () => void (entry.clientClosedAt = performance.now()));
        res.writeHead(200, { "content-type": "application/json", "content-length": "4096" });
        res.write('{"access_token":"');
        return;
      case "respond":
        res.writeHead(fault.status, { "content-type": fault.contentType ?? "text/html; charset=utf-8" });
        res.end(fault.body);
        return;
      case "reflect": {
        const quoted = `${entry.body} ${entry.authorization ?? ""} ${decodeURIComponent(entry.body.replace(/\+/g, " "))}`;
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (fault.challenge) {
          const inChallenge = (fault.escapeChallenge ?? ((text: string) => text))(quoted.replace(/["\\]/g, ""));
          headers["www-authenticate"] = `Bearer error="${fault.error}", error_description="${inChallenge}"`;
        }
        const body: Record<string, string> = { error: fault.error, error_description: `refused: ${quoted}` };
        for (const field of fault.alsoIn ?? []) body[field] = quoted;
        res.writeHead(fault.status, headers);
        res.end((fault.escape ?? ((json: string) => json))(JSON.stringify(body)));
        return;
      }
      case "huge": {
        const filler = Buffer.alloc(64 * 1024, 0x20);
        res.writeHead(200, {
          "content-type": "application/json",
          ...(fault.declareLength ? { "content-length": String(fault.bytes) } : {}),
        });
        let left = fault.bytes;
        const pump = () => {
          while (left > 0) {
            const piece = left >= filler.length ? filler : filler.subarray(0, left);
            left -= piece.length;
            if (!res.write(piece)) {
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        res.on("error", () => {});
        pump();
        return;
      }
    }

    let upstream: IncomingMessage;
    try {
      upstream = await forward(req, body);
    } catch {
      res.writeHead(502).end();
      return;
    }
    const upstreamBody = await readBody(upstream);
    const headers = { ...upstream.headers };
    delete headers["transfer-encoding"];
    if (fault.kind === "reset-mid-body") {
      entry.responseBody = upstreamBody.toString("utf8");
      res.writeHead(upstream.statusCode ?? 502, { ...headers, "content-length": String(upstreamBody.length) });
      res.write(upstreamBody.subarray(0, Math.floor(upstreamBody.length / 2)), () => {
        // A TCP reset where the runtime offers one (Node); a plain close of a short body elsewhere.
        setTimeout(() => {
          const socket = req.socket as Socket & { resetAndDestroy?: () => void };
          if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
          else socket.destroy();
        }, 20);
      });
      return;
    }
    let out = upstreamBody;
    if (fault.kind === "edit-json") {
      out = Buffer.from(JSON.stringify(fault.edit(JSON.parse(upstreamBody.toString("utf8")) as Record<string, unknown>)));
    }
    entry.responseBody = out.toString("utf8");
    res.writeHead(upstream.statusCode ?? 502, { ...headers, "content-length": String(out.length) });
    res.end(out);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const provider = await startProvider({ ...options, issuer });
  upstreamPort = provider.port;

  return {
    issuer,
    provider,
    seen,
    setRules(next) {
      rules = next;
      used.clear();
    },
    clear() {
      seen.length = 0;
    },
    async setDown(down) {
      if (down) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections?.();
          for (const socket of sockets) socket.destroy();
        });
      } else if (!server.listening) {
        await listen(server, port);
      }
    },
    async close() {
      server.closeAllConnections?.();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
      await provider.close();
    },
  };
}
