// The loopback listener of this runtime under a local attacker: slow clients holding connections open, endless
// request bodies and headers, and every method but GET on the callback path. Real sockets, real listener.
import { afterEach, describe, expect, it } from "vitest";
import { startLoopbackServer } from "../../adapters/mod.ts";
import type { LoopbackServer } from "../../mod.ts";
import { runtimeKey } from "../support/runtime.ts";
import { settledState } from "../support/promise_state.ts";
import { isListening } from "../support/raw_http.ts";
import { dribble, exchange, flood } from "./net.ts";

const STATE = "c3RhdGUtb2YtdGhlLWxvZ2luLXVuZGVyLWF0dGFjay0x";
/** More than any socket buffers hold on loopback (a few MB): a server still reading after this reads without end. */
const READ_BOUND = 48 * 1024 * 1024;
const FLOOD_MS = 1_500;
const runtime = runtimeKey();

let servers: LoopbackServer[] = [];
let cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
  for (const server of servers) await server.close();
  servers = [];
});

async function listener(): Promise<LoopbackServer> {
  const server = await startLoopbackServer({ state: STATE });
  servers.push(server);
  return server;
}

const callback = (port: number, code: string) =>
  `GET /callback?code=${code}&state=${STATE} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;

function rssBytes(): number {
  return process.memoryUsage().rss;
}

describe("the loopback listener against slow clients", () => {
  it("completes the real callback while 30 slowloris clients hold connections open, and closes without them", async () => {
    const server = await listener();
    const port = server.port;
    const host = `Host: 127.0.0.1:${port}\r\n`;
    for (let i = 0; i < 10; i++) {
      // Headers that never end, one line at a time.
      const headers = dribble(port, `GET /callback?state=${STATE} HTTP/1.1\r\n${host}`, "X-Slow: 1\r\n", 200);
      // A whole head, then a body that never ends.
      const body = dribble(port, `POST /callback HTTP/1.1\r\n${host}Content-Length: 1000000\r\n\r\n`, "a", 200);
      // Connected, silent.
      const idle = dribble(port, "", "", 60_000);
      cleanups.push(headers.stop, body.stop, idle.stop);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = performance.now();
    const answer = await exchange(port, callback(port, "real"));
    expect(answer.status).toBe(200);
    expect(answer.raw).toContain("You are signed in");
    // waitForCallback() resolves after the listener closed: the attackers' connections must not hold that up.
    const params = await Promise.race([
      server.waitForCallback(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the login waited on the slow clients")), 5_000)),
    ]);
    const elapsed = performance.now() - sent;
    expect(params.get("code")).toBe("real");
    expect(elapsed).toBeLessThan(2_000);
    expect(await isListening(port)).toBe(false);
  });
});

describe("the loopback listener bounds what it reads", () => {
  it("stops reading an endless request body (Content-Length or chunked) and answers without the body", async () => {
    const server = await listener();
    const port = server.port;
    const host = `Host: 127.0.0.1:${port}\r\n`;
    const megabyte = new Uint8Array(1024 * 1024).fill(97);
    const chunk = Buffer.concat([Buffer.from(`${megabyte.byteLength.toString(16)}\r\n`), megabyte, Buffer.from("\r\n")]);
    const before = rssBytes();
    const results = await Promise.all([
      flood(port, `POST /callback?code=x&state=${STATE} HTTP/1.1\r\n${host}Content-Length: 10000000000\r\n\r\n`, megabyte, FLOOD_MS),
      flood(port, `POST /callback?code=x&state=${STATE} HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n`, chunk, FLOOD_MS),
      flood(port, `GET /callback?state=wrong HTTP/1.1\r\n${host}Content-Length: 10000000000\r\n\r\n`, megabyte, FLOOD_MS),
      flood(port, `PUT /elsewhere HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n`, chunk, FLOOD_MS),
    ]);
    const grown = rssBytes() - before;
    for (const result of results) {
      // Answered from the head alone: the body never reaches the handler.
      expect(result.statusLine).toMatch(/^HTTP\/1\.1 (4\d\d)/);
      if (runtime !== "deno") {
        // node:http and Bun.serve stop reading once they answered with `connection: close`.
        expect(result.sent, `the ${runtime} listener kept reading a body`).toBeLessThan(READ_BOUND);
      }
    }
    // Deno.serve reads an unread body to its end and discards it (no option turns that off): memory stays flat
    // there too, and closing does not wait for it (see the slowloris test and prompt_exit).
    expect(grown, `memory grew by ${Math.round(grown / 1e6)} MB`).toBeLessThan(128 * 1024 * 1024);
    expect(await settledState(server.waitForCallback())).toBe("pending");
    expect((await exchange(port, callback(port, "after-bodies"))).status).toBe(200);
    expect((await server.waitForCallback()).get("code")).toBe("after-bodies");
  });

  it("stops reading an endless header, an endless list of headers and an endless request target", async () => {
    const server = await listener();
    const port = server.port;
    const host = `Host: 127.0.0.1:${port}\r\n`;
    const filler = new Uint8Array(256 * 1024).fill(104);
    const lines = Buffer.from("X-More: h\r\n".repeat(20_000));
    const results = await Promise.all([
      flood(port, `GET /callback?code=x&state=${STATE} HTTP/1.1\r\n${host}X-Huge: `, filler, FLOOD_MS),
      flood(port, `GET /callback?code=x&state=${STATE} HTTP/1.1\r\n${host}`, lines, FLOOD_MS),
      flood(port, `GET /callback?code=x&state=${STATE}&pad=`, filler, FLOOD_MS),
    ]);
    for (const result of results) {
      expect(result.sent, `the ${runtime} listener kept reading a request head`).toBeLessThan(READ_BOUND);
      // Refused (400, 414, 431) or cut off: never answered as a callback.
      expect(result.statusLine).not.toMatch(/^HTTP\/1\.1 2/);
    }
    expect(await settledState(server.waitForCallback())).toBe("pending");
    expect((await exchange(port, callback(port, "after-heads"))).status).toBe(200);
    expect((await server.waitForCallback()).get("code")).toBe("after-heads");
  });

  it("refuses a callback whose head is 1 MB, even with the right state and code", async () => {
    const server = await listener();
    const port = server.port;
    const answer = await exchange(
      port,
      `GET /callback?code=x&state=${STATE} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Huge: ${"h".repeat(1024 * 1024)}\r\n\r\n`,
    );
    expect(answer.status === 0 || answer.status >= 400).toBe(true);
    expect(await settledState(server.waitForCallback())).toBe("pending");
  });
});

describe("the loopback listener accepts only GET on the callback", () => {
  it("answers 405 to POST, PUT, PATCH, DELETE, OPTIONS and HEAD with the right state and code, and keeps waiting", async () => {
    const server = await listener();
    const port = server.port;
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]) {
      const length = method === "HEAD" || method === "OPTIONS" ? "" : "Content-Length: 0\r\n";
      const answer = await exchange(
        port,
        `${method} /callback?code=x&state=${STATE} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${length}\r\n`,
        { headRequest: method === "HEAD" },
      );
      expect(answer.status, method).toBe(405);
      expect(answer.raw.toLowerCase(), method).toContain("allow: get");
      expect(await settledState(server.waitForCallback()), method).toBe("pending");
    }
  });

  it("never accepts TRACE, CONNECT or an unknown method (refused by the runtime or by the handler)", async () => {
    const server = await listener();
    const port = server.port;
    for (const method of ["TRACE", "CONNECT", "PROPFIND", "BREW"]) {
      const answer = await exchange(port, `${method} /callback?code=x&state=${STATE} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      expect(answer.status === 0 || answer.status >= 400, `${method} got ${answer.status}`).toBe(true);
      expect(await settledState(server.waitForCallback()), method).toBe("pending");
    }
    expect((await exchange(port, callback(port, "get"))).status).toBe(200);
    expect((await server.waitForCallback()).get("code")).toBe("get");
  });
});
