// A raw HTTP/1.1 client over node:net: tests need requests fetch() refuses to send (a forged Host header, odd
// methods, malformed lines) and to see exactly what the listener answers.
import { connect } from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/** Sends `request` (raw text) to 127.0.0.1:port (or `host`) and reads until the server closes or `timeoutMs`. */
export function rawRequest(port: number, request: string, options: { host?: string; timeoutMs?: number } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: options.host ?? "127.0.0.1" });
    let raw = "";
    const timer = setTimeout(() => {
      socket.destroy();
      finish();
    }, options.timeoutMs ?? 3_000);
    const finish = () => {
      clearTimeout(timer);
      const [head = "", ...rest] = raw.split("\r\n\r\n");
      const [statusLine = "", ...headerLines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = rest.join("\r\n\r\n");
      if (headers["transfer-encoding"] === "chunked") body = dechunk(body);
      resolve({ status: Number(statusLine.split(" ")[1] ?? 0), headers, body, raw });
    };
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      raw += chunk;
      // Answer complete for non-keep-alive responses: the server closes; otherwise stop at a full body.
      const split = raw.indexOf("\r\n\r\n");
      if (split >= 0) {
        const head = raw.slice(0, split).toLowerCase();
        const length = /content-length:\s*(\d+)/.exec(head)?.[1];
        if (length !== undefined && Buffer.byteLength(raw.slice(split + 4)) >= Number(length)) {
          socket.end();
        }
        if (head.includes("transfer-encoding: chunked") && raw.endsWith("0\r\n\r\n")) socket.end();
      }
    });
    socket.on("end", () => socket.end());
    socket.on("close", finish);
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(request);
  });
}

function dechunk(body: string): string {
  let out = "";
  let rest = body;
  for (;;) {
    const newline = rest.indexOf("\r\n");
    if (newline < 0) break;
    const size = parseInt(rest.slice(0, newline), 16);
    if (!size) break;
    out += rest.slice(newline + 2, newline + 2 + size);
    rest = rest.slice(newline + 2 + size + 2);
  }
  return out;
}

/** A GET with the given Host header (default: the listener's own). */
export function rawGet(port: number, path: string, host = `127.0.0.1:${port}`, extraHeaders = ""): Promise<RawResponse> {
  return rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extraHeaders}\r\n`);
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function isListening(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
