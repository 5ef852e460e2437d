// Raw sockets for the hardening tests: requests as bytes (no client library in the way), clients that stream a body
// or a header forever, and clients that dribble one line at a time (slowloris).
import { connect, type Socket } from "node:net";

export interface RawExchange {
  /** The status code, or 0 when the server answered nothing before closing or the time ran out. */
  status: number;
  /** Everything the server sent, as latin1. */
  raw: string;
  /** Whether the server closed (or reset) the connection before a complete answer came or `timeoutMs` passed. */
  closed: boolean;
}

/**
 * Whether `raw` holds a whole final response: its head and, by Content-Length or chunked framing, its body (none for
 * a HEAD request). Interim 1xx responses are skipped.
 */
function completeResponse(raw: string, headRequest: boolean): boolean {
  let rest = raw;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return false;
    const head = rest.slice(0, end).toLowerCase();
    const body = rest.slice(end + 4);
    if (/^http\/\d(?:\.\d)? 1\d\d/.test(head)) {
      rest = body;
      continue;
    }
    if (headRequest || /^http\/\d(?:\.\d)? (?:204|304)/.test(head)) return true;
    const length = /\r\ncontent-length:\s*(\d+)/.exec(head)?.[1];
    if (length !== undefined) return body.length >= Number(length);
    if (/\r\ntransfer-encoding:\s*chunked/.test(head)) return /(?:^|\r\n)0\r\n\r\n$/.test(body);
    return false; // read to the end
  }
}

/**
 * Sends `request` (bytes) to 127.0.0.1:port and reads until the answer is complete, the server closes, or
 * `timeoutMs` passes.
 */
export function exchange(
  port: number,
  request: Uint8Array | string,
  options: { host?: string; timeoutMs?: number; headRequest?: boolean } = {},
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: options.host ?? "127.0.0.1" });
    let raw = "";
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      // The final answer: interim 1xx responses (100 Continue) come before it.
      const statuses = [...raw.matchAll(/(?:^|\r\n)HTTP\/\d(?:\.\d)? (\d{3})/g)].map((m) => Number(m[1]));
      const status = statuses.find((s) => s >= 200) ?? 0;
      resolve({ status, raw, closed });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 3_000);
    socket.on("data", (chunk: Buffer) => {
      raw += chunk.toString("latin1");
      if (completeResponse(raw, options.headRequest ?? false)) finish(false);
    });
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("end", () => finish(true));
    socket.write(typeof request === "string" ? Buffer.from(request, "latin1") : request);
  });
}

export interface FloodResult {
  /** Bytes the client managed to hand to the kernel before the server stopped taking them (or time ran out). */
  sent: number;
  /** The status line the server answered with, if any. */
  statusLine: string;
  /** Whether the server closed the connection before `durationMs`. */
  closedByServer: boolean;
}

/**
 * Writes `head`, then `chunk` over and over as fast as the server takes it, for at most `durationMs`. A server that
 * stops reading shows up as a small `sent` (what fits the socket buffers); one that keeps reading as a large one.
 */
export function flood(port: number, head: string, chunk: Uint8Array, durationMs: number): Promise<FloodResult> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let sent = 0;
    let statusLine = "";
    let closedByServer = false;
    let done = false;
    const started = Date.now();
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ sent, statusLine, closedByServer });
    };
    const timer = setTimeout(finish, durationMs);
    socket.on("data", (data: Buffer) => {
      if (!statusLine) statusLine = data.toString("latin1").split("\r\n")[0] ?? "";
    });
    socket.on("error", () => {
      closedByServer = true;
      finish();
    });
    socket.on("close", () => {
      closedByServer = !done;
      finish();
    });
    socket.write(head);
    const pump = () => {
      while (!done && Date.now() - started < durationMs) {
        sent += chunk.byteLength;
        if (!socket.write(chunk)) {
          socket.once("drain", pump);
          return;
        }
      }
    };
    socket.once("connect", pump);
  });
}

/** A client that sends `head` and then one more `line` every `everyMs`, never finishing its request. */
export function dribble(port: number, head: string, line: string, everyMs: number): { socket: Socket; stop(): void } {
  const socket = connect({ port, host: "127.0.0.1" });
  socket.on("error", () => {});
  socket.on("data", () => {});
  socket.write(head);
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(line);
  }, everyMs);
  return {
    socket,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

