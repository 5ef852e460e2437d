// The loopback listener of this runtime (Deno.serve, Bun.serve or node:http) against a plain HTTP client.
import { connect, createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startLoopbackServer } from "../../adapters/mod.ts";
import { CliAuthError, type LoopbackServer } from "../../mod.ts";
import { settledState } from "../support/promise_state.ts";
import { isListening, rawGet, rawRequest } from "../support/raw_http.ts";
import { runScript } from "../support/run_script.ts";

const STATE = "s".repeat(43);

// Long enough for a callback that would settle the login to have done so.
const SETTLE_MS = 50;

async function withServer(test: (server: LoopbackServer) => Promise<void>, options = {}) {
  const server = await startLoopbackServer({ state: STATE, ...options });
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

describe("startLoopbackServer()", () => {
  it("binds 127.0.0.1 on a random port and builds the redirect URI", async () => {
    await withServer(async (server) => {
      expect(server.redirectUri).toBe(`http://127.0.0.1:${server.port}/callback`);
      expect(server.port).toBeGreaterThan(0);
      expect(await isListening(server.port)).toBe(true);
    });
  });

  it("ignores a callback with the wrong state, then accepts the right one", async () => {
    await withServer(async (server) => {
      const wrong = await rawGet(server.port, `/callback?code=evil&state=not-the-state`);
      expect(wrong.status).toBe(400);
      expect(wrong.body).toContain("not for the running login");
      expect(await settledState(server.waitForCallback(), SETTLE_MS)).toBe("pending");
      const twoStates = await rawGet(server.port, `/callback?code=evil&state=${STATE}&state=${STATE}`);
      expect(twoStates.status).toBe(400);
      expect(await settledState(server.waitForCallback(), SETTLE_MS)).toBe("pending");
      const right = await rawGet(server.port, `/callback?code=good&state=${STATE}`);
      expect(right.status).toBe(200);
      expect(right.body).toContain("Signed in");
      expect((await server.waitForCallback()).get("code")).toBe("good");
    });
  });

  it("rejects a Host header that is not the bound address and port (DNS rebinding)", async () => {
    await withServer(async (server) => {
      for (const host of ["evil.example", `localhost:${server.port}`, "127.0.0.1", `127.0.0.1:${server.port + 1}`]) {
        const response = await rawGet(server.port, `/callback?code=x&state=${STATE}`, host);
        expect(response.status).toBe(421);
      }
      expect(await settledState(server.waitForCallback(), SETTLE_MS)).toBe("pending");
      expect(await isListening(server.port)).toBe(true);
    });
  });

  it("answers 404 on other paths and /favicon.ico without consuming the one-shot", async () => {
    await withServer(async (server) => {
      expect((await rawGet(server.port, "/favicon.ico")).status).toBe(404);
      expect((await rawGet(server.port, `/other?code=x&state=${STATE}`)).status).toBe(404);
      expect((await rawGet(server.port, `/callback/extra?code=x&state=${STATE}`)).status).toBe(404);
      expect(await settledState(server.waitForCallback(), SETTLE_MS)).toBe("pending");
      expect((await rawGet(server.port, `/callback?code=ok&state=${STATE}`)).status).toBe(200);
      expect((await server.waitForCallback()).get("code")).toBe("ok");
    });
  });

  it("reads a request target that starts with // as a path, not as a host: 404, the one-shot left open", async () => {
    // `new URL("//evil.test/callback", origin)` would take evil.test as the host and /callback as the path.
    await withServer(async (server) => {
      for (const target of ["//evil.test/callback", `//127.0.0.1:${server.port}/callback`, "///callback", "//callback"]) {
        const response = await rawGet(server.port, `${target}?code=evil&state=${STATE}`);
        expect(response.status, target).toBe(404);
      }
      expect(await settledState(server.waitForCallback(), SETTLE_MS)).toBe("pending");
      expect((await rawGet(server.port, `/callback?code=ok&state=${STATE}`)).status).toBe(200);
      expect((await server.waitForCallback()).get("code")).toBe("ok");
    });
  });

  it("accepts only GET on the callback path", async () => {
    await withServer(async (server) => {
      const post = await rawRequest(
        server.port,
        `POST /callback?code=x&state=${STATE} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      expect(post.status).toBe(405);
      expect(await settledState(server.waitForCallback(), SETTLE_MS)).toBe("pending");
    });
  });

  it("ends the login with access_denied on error=access_denied, escaping the description", async () => {
    await withServer(async (server) => {
      const description = encodeURIComponent(`<script>alert("x")</script> & more`);
      const response = await rawGet(server.port, `/callback?error=access_denied&error_description=${description}&state=${STATE}`);
      expect(response.status).toBe(403);
      expect(response.body).not.toContain("<script>");
      expect(response.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more");
      const error = await server.waitForCallback().catch((e) => e);
      expect(error).toBeInstanceOf(CliAuthError);
      expect((error as CliAuthError).code).toBe("access_denied");
    });
  });

  it("writes the whole page to the socket before resolving, then closes the port", async () => {
    const server = await startLoopbackServer({ state: STATE });
    // The client sends the callback and reads nothing until the promise resolved: whatever the server wrote before
    // resolving (and closing) waits in the socket buffer. A server that resolved first would leave a cut page.
    const socket = connect({ port: server.port, host: "127.0.0.1" });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.pause();
    socket.write(`GET /callback?code=c&state=${STATE} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    const params = await server.waitForCallback();
    expect(params.get("code")).toBe("c");
    expect(await isListening(server.port)).toBe(false);
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => void (received += chunk));
    await new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      socket.resume();
    });
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    expect(received).toContain("You are signed in");
    expect(received).toContain("</html>");
  });

  it("tries ports in order and fails with port_unavailable when all are taken", async () => {
    const taken: Server[] = [];
    for (let i = 0; i < 2; i++) {
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      taken.push(blocker);
    }
    const busy = taken.map((s) => (s.address() as { port: number }).port);
    try {
      const error = await startLoopbackServer({ state: STATE, port: busy }).catch((e) => e);
      expect(error).toBeInstanceOf(CliAuthError);
      expect((error as CliAuthError).code).toBe("port_unavailable");
      expect((error as CliAuthError).message).toContain(String(busy[0]));
      const free = await new Promise<number>((resolve) => {
        const probe = createServer();
        probe.listen(0, "127.0.0.1", () => {
          const port = (probe.address() as { port: number }).port;
          probe.close(() => resolve(port));
        });
      });
      await withServer((server) => {
        expect(server.port).toBe(free);
        return Promise.resolve();
      }, { port: [...busy, free] });
    } finally {
      for (const blocker of taken) blocker.close();
    }
  });

  it("refuses hosts other than 127.0.0.1 and ::1", async () => {
    for (const host of ["0.0.0.0", "localhost", "192.168.1.1"]) {
      const error = await startLoopbackServer({ state: STATE, host }).catch((e) => e);
      expect((error as CliAuthError).code).toBe("invalid_options");
    }
  });

  it("listens on ::1 when asked", async () => {
    const server = await startLoopbackServer({ state: STATE, host: "::1" });
    try {
      expect(server.redirectUri).toBe(`http://[::1]:${server.port}/callback`);
      const response = await rawRequest(
        server.port,
        `GET /callback?code=v6&state=${STATE} HTTP/1.1\r\nHost: [::1]:${server.port}\r\nConnection: close\r\n\r\n`,
        { host: "::1" },
      );
      expect(response.status).toBe(200);
      expect((await server.waitForCallback()).get("code")).toBe("v6");
    } finally {
      await server.close();
    }
  });

  it("rejects with the signal's reason and closes when cancelled", async () => {
    const controller = new AbortController();
    const server = await startLoopbackServer({ state: STATE, signal: controller.signal });
    const reason = new CliAuthError("login_cancelled", "cancelled by test");
    controller.abort(reason);
    await expect(server.waitForCallback()).rejects.toBe(reason);
    expect(await isListening(server.port)).toBe(false);
  });

  it("lets the process exit on its own right after the callback, even with a keep-alive client", async () => {
    let port = 0;
    let sent = false;
    const result = await runScript(fileURLToPath(new URL("../fixtures/loopback_once.ts", import.meta.url)), {
      timeoutMs: 20_000,
      onStdout: (_chunk, all) => {
        const match = /port (\d+)/.exec(all);
        if (match && !sent) {
          sent = true;
          port = Number(match[1]);
          // No "Connection: close": a browser keeps its connection alive.
          void rawRequest(port, `GET /callback?code=k&state=fixture-state HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, {
            timeoutMs: 10_000,
          });
        }
      },
    });
    expect(result.code).toBe(0);
    const done = /done (\d+) k/.exec(result.stdout);
    expect(done).not.toBeNull();
    const exitedAfterMs = Date.now() - Number(done![1]);
    expect(exitedAfterMs).toBeLessThan(1_000);
  });
});
