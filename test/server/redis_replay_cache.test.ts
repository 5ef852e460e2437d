// An API that runs as several instances shares its DPoP replays in Redis (redisReplayCache) and its nonces through a
// shared secret (createDpopNonceSource({ secret })). Against a REAL redis-server (a private one on a free loopback
// port, nothing saved, stopped at the end) and two API instances in two processes of the runtime under test (Bun's
// RedisClient on Bun, node-redis on Node and Deno), behind one public URL as behind a load balancer.
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDpopNonceSource,
  createVerifier,
  DEFAULT_REDIS_REPLAY_PREFIX,
  redisReplayCache,
  unauthorizedResponse,
} from "../../server/mod.ts";
import { jwkThumbprint } from "../../server/_dpop_proof.ts";
import { scriptCommand } from "../support/run_script.ts";
import { rejection, throws } from "../support/reject.ts";
import { claims, generateTestKey, type KeyServer, signJwt, startKeyServer } from "./support/key_server.ts";
import { dpopKeyPair, dpopRequest, makeProof, publicJwk } from "./support/dpop.ts";
import { connectRedis, type PrivateRedis, type RedisConnection, startRedis } from "./support/redis.ts";

const PUBLIC = "https://api.example.test";
const ME = `${PUBLIC}/me`;
const NONCE_ME = `${PUBLIC}/nonce/me`;
const API = `${PUBLIC}/`;
const INSTANCE = fileURLToPath(new URL("./support/api_instance.ts", import.meta.url));
const WINDOW_MS = (60 + 30) * 1000; // default proofWindowSeconds + clockToleranceSeconds
const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

describe("redisReplayCache() on its own", () => {
  it("sends one SET <prefix><id> 1 NX PXAT <expiresAt> per proof: OK is a first use, nil a replay", async () => {
    const sent: string[][] = [];
    const replies: unknown[] = ["OK", null, undefined, new TextEncoder().encode("OK")];
    const cache = redisReplayCache((args) => (sent.push(args), Promise.resolve(replies.shift())), { prefix: "api:" });
    expect(await cache.use("id-1", 1_700_000_000_000.4)).toBe(true);
    expect(await cache.use("id-1", 1_700_000_000_000)).toBe(false);
    expect(await cache.use("id-1", 1_700_000_000_000)).toBe(false);
    expect(await cache.use("id-2", 1_700_000_000_000)).toBe(true);
    expect(sent[0]).toEqual(["SET", "api:id-1", "1", "NX", "PXAT", "1700000000001"]);
    const defaults = redisReplayCache((args) => (sent.push(args), Promise.resolve("OK")));
    await defaults.use("x", 1);
    expect(sent.at(-1)![1]).toBe(`${DEFAULT_REDIS_REPLAY_PREFIX}x`);
  });

  it("refuses (never accepts) when Redis fails, answers something else, or does not answer in time", async () => {
    const failing = redisReplayCache(() => Promise.reject(new Error("READONLY You can't write against a read only replica")));
    const failed = await rejection(Promise.resolve(failing.use("id", Date.now() + 1_000)));
    expect(failed.code).toBe("server_error");
    expect(failed.message).toMatch(/READONLY/);
    const throwing = redisReplayCache(() => {
      throw new TypeError("client is closed");
    });
    expect((await rejection(Promise.resolve(throwing.use("id", 1)))).code).toBe("server_error");
    for (const reply of [1, "QUEUED", 0, { ok: true }]) {
      const odd = redisReplayCache(() => Promise.resolve(reply));
      expect((await rejection(Promise.resolve(odd.use("id", 1)))).code, JSON.stringify(reply)).toBe("server_error");
    }
    const hanging = redisReplayCache(() => new Promise(() => {}), { timeoutMs: 100 });
    const started = performance.now();
    const timedOut = await rejection(Promise.resolve(hanging.use("id", 1)));
    expect(timedOut.code).toBe("timeout");
    expect(performance.now() - started).toBeLessThan(1_000);
    // Each of these is a 503 at the API.
    for (const error of [failed, timedOut]) expect(unauthorizedResponse(error).status).toBe(503);
  });

  it("refuses bad options with invalid_options", () => {
    for (const [send, options] of [[undefined, {}], [() => Promise.resolve("OK"), { prefix: 7 }], [() => Promise.resolve("OK"), { timeoutMs: 0 }]]) {
      expect(throws(() => redisReplayCache(send as never, options as never)).code).toBe("invalid_options");
    }
  });
});

interface Instance {
  url: string;
  style: string;
  stop(): Promise<void>;
}

describe(`an API as two instances (two processes) sharing one real redis-server`, () => {
  let redis: PrivateRedis;
  let connection: RedisConnection;
  let issuer: KeyServer;
  let keyPair: CryptoKeyPair;
  let token: string;
  let a: Instance;
  let b: Instance;
  const prefix = `test:${crypto.randomUUID()}:dpop:`;
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const jtis: string[] = [];
  let accepted = 0;

  async function startInstance(): Promise<Instance> {
    const [command, args] = await scriptCommand(INSTANCE);
    const child: ChildProcess = spawn(command, args, {
      env: {
        ...process.env,
        API_PUBLIC_URL: PUBLIC,
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        NONCE_SECRET_HEX: toHex(secret),
        ISSUER: issuer.issuer,
        AUDIENCE: API,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
    const ready = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance not ready after 45 s: ${stderr}`)), 45_000);
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        const line = stdout.split("\n").find((l) => l.startsWith("ready "));
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`instance exited with ${code}: ${stderr}`));
      });
    });
    const [, url, ...style] = ready.trim().split(" ");
    return {
      url: url!,
      style: style.join(" "),
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.stdin!.end();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      },
    };
  }

  beforeAll(async () => {
    redis = await startRedis();
    connection = await connectRedis(redis.url);
    const signingKey = await generateTestKey("ES256", "issuer-key");
    issuer = await startKeyServer([signingKey]);
    keyPair = await dpopKeyPair();
    token = await signJwt(signingKey, claims(issuer.issuer, API, { cnf: { jkt: await jwkThumbprint(await publicJwk(keyPair)) } }));
    [a, b] = await Promise.all([startInstance(), startInstance()]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await connection?.close().catch(() => {});
    await issuer?.close();
    await redis?.stop();
  });

  /** A fresh proof for `htu` (the public URL), its jti remembered. */
  async function proof(htu = ME, extra: Record<string, unknown> = {}): Promise<string> {
    const jti = crypto.randomUUID();
    jtis.push(jti);
    return await makeProof(keyPair, { htu, token, jti, ...extra });
  }

  /** Sends a DPoP request for `path` to an instance. */
  async function call(instance: Instance, dpop: string, path = "/me"): Promise<{ status: number; body: any; headers: Headers }> {
    const response = await fetch(`${instance.url}${path}`, { headers: { authorization: `DPoP ${token}`, dpop } });
    const body = await response.json().catch(() => undefined);
    if (response.status === 200) accepted++;
    return { status: response.status, body, headers: response.headers };
  }

  it("runs each instance with the runtime's client style", () => {
    const expected = process.versions.bun ? "bun RedisClient" : "node-redis";
    expect([a.style, b.style]).toEqual([expected, expected]);
    expect(connection.style).toBe(expected);
  });

  it("refuses on instance B a proof instance A accepted (and on A again)", async () => {
    const once = await proof();
    const first = await call(a, once);
    expect(first.status).toBe(200);
    expect(first.body.subject).toBe("alice");
    const onB = await call(b, once);
    expect(onB.status).toBe(401);
    expect(onB.headers.get("www-authenticate")).toMatch(/DPoP error="invalid_dpop_proof"/);
    expect(onB.body.error_description).toMatch(/used before/);
    expect((await call(a, once)).status).toBe(401);
  });

  it("accepts 200 concurrent fresh proofs across A and B, and refuses all 200 replays", async () => {
    const proofs = await Promise.all(Array.from({ length: 200 }, () => proof()));
    const firsts = await Promise.all(proofs.map((p, i) => call(i % 2 ? a : b, p)));
    expect(firsts.filter((r) => r.status === 200)).toHaveLength(200);
    // Each replayed at once on both instances: none gets through anywhere.
    const replays = await Promise.all(proofs.flatMap((p) => [call(a, p), call(b, p)]));
    const outcomes = new Set(replays.map((r) => `${r.status} ${r.body?.error} ${/used before/.test(r.body?.error_description)}`));
    expect([...outcomes]).toEqual(["401 invalid_dpop_proof true"]);
  });

  it("stores each proof once, under a hash (no jti), with a TTL no longer than the proof window", async () => {
    const keys = (await connection.send(["KEYS", `${prefix}*`])) as string[];
    expect(keys).toHaveLength(accepted);
    for (const key of keys) {
      expect(key.slice(prefix.length)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(jtis.some((jti) => key.includes(jti))).toBe(false);
      const ttl = Number(await connection.send(["PTTL", key]));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(WINDOW_MS);
    }
    // A proof whose iat is at the far end of the window is kept no longer than the window from now.
    const future = await proof(ME, { iat: Math.floor(Date.now() / 1000) + 85 });
    expect((await call(b, future)).status).toBe(200);
    const all = (await connection.send(["KEYS", `${prefix}*`])) as string[];
    const ttls = await Promise.all(all.map(async (key) => Number(await connection.send(["PTTL", key]))));
    expect(Math.max(...ttls)).toBeLessThanOrEqual(2 * WINDOW_MS);
  });

  it("shares nonces through createDpopNonceSource({ secret }): B accepts the nonce A handed out", async () => {
    const without = await call(a, await proof(NONCE_ME), "/nonce/me");
    expect(without.status).toBe(401);
    expect(without.body.error).toBe("use_dpop_nonce");
    const nonce = without.headers.get("dpop-nonce");
    expect(nonce).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    const retried = await call(b, await proof(NONCE_ME, { nonce }), "/nonce/me");
    expect(retried.status).toBe(200);
    // An instance with another secret does not accept it; one with the fleet's secret does.
    const local = (nonceSecret: Uint8Array) =>
      createVerifier({
        issuer: issuer.issuer,
        audience: API,
        http: { allowInsecureRequests: true },
        dpop: { nonce: createDpopNonceSource({ secret: nonceSecret }) },
      });
    const request = async () => dpopRequest(NONCE_ME, token, await proof(NONCE_ME, { nonce }));
    const other = await rejection(local(crypto.getRandomValues(new Uint8Array(32))).verifyRequest(await request()));
    expect(other.error).toBe("use_dpop_nonce");
    expect((await local(secret).verifyRequest(await request())).subject).toBe("alice");
  });

  it("refuses every proof with 503 (never accepts one) while Redis is down", async () => {
    await redis.stop();
    const fresh = await Promise.all([proof(), proof()]);
    const results = [await call(a, fresh[0]!), await call(b, fresh[1]!)];
    for (const result of results) {
      expect(result.status).toBe(503);
      expect(result.headers.get("www-authenticate")).toBeNull();
      expect(result.headers.get("retry-after")).toBe("5");
    }
  });
});
