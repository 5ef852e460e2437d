// A private Redis for a test: Debian's redis-server on a free loopback port, nothing saved to disk, stopped at the end.
// `--port 0` means "no TCP listener" to Redis, so a free port is picked first (and another one if it was taken
// meanwhile); ready when PING answers PONG. Also a client for the test process itself, in the style the runtime's
// users would pick: Bun's built-in RedisClient on Bun, the `redis` package (node-redis) on Node and Deno.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createConnection, createServer, type AddressInfo } from "node:net";

export const REDIS_SERVER = "/usr/bin/redis-server";

export interface PrivateRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Whether this machine has redis-server (`.ci/run` installs it). */
export function hasRedisServer(): boolean {
  return existsSync(REDIS_SERVER);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a Redis on `port` answers PING with PONG. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.once("connect", () => socket.write("*1\r\n$4\r\nPING\r\n"));
  });
}

/** Resolves when the child has exited; listen from spawn on (Deno sets `signalCode` already when kill() is called). */
function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts redis-server on 127.0.0.1 with `--save '' --appendonly no`; resolves once it answers PONG. */
export async function startRedis(): Promise<PrivateRedis> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      REDIS_SERVER,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const exited = exitOf(child);
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await pong(port)) {
        return {
          url: `redis://127.0.0.1:${port}`,
          port,
          stop: async () => {
            child.kill("SIGTERM");
            await exited;
          },
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill("SIGKILL");
    await exited;
    if (!/Address already in use/i.test(stderr)) throw new Error(`redis-server did not start: ${stderr.trim()}`);
  }
  throw new Error("redis-server found no free port");
}

/** A Redis connection for the test process: raw commands in, replies out. */
export interface RedisConnection {
  /** Which client style it is. */
  style: "bun RedisClient" | "node-redis";
  send(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

/** Bun's built-in RedisClient on Bun, node-redis (the `redis` package) on Node and Deno. */
export async function connectRedis(url: string): Promise<RedisConnection> {
  const bun = (globalThis as { Bun?: { RedisClient: new (url: string) => BunRedisClient } }).Bun;
  if (bun) {
    const client = new bun.RedisClient(url);
    await client.connect();
    return {
      style: "bun RedisClient",
      send: ([command, ...args]) => client.send(command!, args),
      close: () => Promise.resolve(client.close()),
    };
  }
  const { createClient } = await import("redis");
  // node-redis emits "error" when the connection drops and reconnects by itself; without a listener the process
  // would die. Commands meanwhile wait in its offline queue: redisReplayCache's timeout answers for them.
  const client = await createClient({ url }).on("error", () => {}).connect();
  return {
    style: "node-redis",
    send: (args) => client.sendCommand(args),
    close: async () => {
      if (client.isReady) await client.close();
      else if (client.isOpen) client.destroy();
    },
  };
}

interface BunRedisClient {
  connect(): Promise<void>;
  send(command: string, args: string[]): Promise<unknown>;
  close(): void;
}
