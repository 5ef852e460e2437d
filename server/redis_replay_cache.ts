/**
 * A DPoP replay cache every instance of an API shares, in Redis or Valkey: a proof accepted by one instance is
 * refused by all the others. One atomic command per proof, `SET <prefix><id> 1 NX PXAT <expiresAt>`, sent through
 * whatever client the API already has; this package depends on none.
 *
 * @module
 */

import { CliAuthError, sanitizedCause } from "../src/common/errors.ts";
import type { DpopReplayCache } from "./dpop_replay_cache.ts";

/**
 * Sends one raw command to Redis or Valkey and resolves to its reply: any client's raw-command call.
 *
 * @example The three common clients
 * ```ts
 * import type { RedisSend } from "@x/cli-auth/server";
 * declare const nodeRedis: { sendCommand(args: string[]): Promise<unknown> };   // `redis` (node-redis)
 * declare const ioredis: { call(command: string, ...args: string[]): Promise<unknown> }; // `ioredis`
 * declare const bun: { send(command: string, args: string[]): Promise<unknown> };      // Bun's `RedisClient`
 * const viaNodeRedis: RedisSend = (args) => nodeRedis.sendCommand(args);
 * const viaIoredis: RedisSend = ([command, ...rest]) => ioredis.call(command!, ...rest);
 * const viaBun: RedisSend = ([command, ...rest]) => bun.send(command!, rest);
 * ```
 */
export type RedisSend = (args: string[]) => Promise<unknown>;

/**
 * Options of {@link redisReplayCache}.
 *
 * @example Usage
 * ```ts
 * import type { RedisReplayCacheOptions } from "@x/cli-auth/server";
 * const options: RedisReplayCacheOptions = { prefix: "my-api:dpop:", timeoutMs: 500 };
 * ```
 */
export interface RedisReplayCacheOptions {
  /** Put before each proof's id to make its key (default `"cli-auth:dpop:"`): one namespace per API. */
  prefix?: string;
  /**
   * How long one command may take, in ms (default 1 000). Past it the proof is refused with `timeout` (the API
   * answers 503), never accepted: a client that queues commands while disconnected would otherwise hold requests.
   */
  timeoutMs?: number;
}

/**
 * Default {@link RedisReplayCacheOptions.prefix}.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_REDIS_REPLAY_PREFIX } from "@x/cli-auth/server";
 * const prefix = `billing:${DEFAULT_REDIS_REPLAY_PREFIX}`;
 * ```
 */
export const DEFAULT_REDIS_REPLAY_PREFIX = "cli-auth:dpop:";

/**
 * Default {@link RedisReplayCacheOptions.timeoutMs}: 1 s.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_REDIS_REPLAY_TIMEOUT_MS, type RedisReplayCacheOptions } from "@x/cli-auth/server";
 * const options: RedisReplayCacheOptions = { timeoutMs: DEFAULT_REDIS_REPLAY_TIMEOUT_MS / 2 };
 * ```
 */
export const DEFAULT_REDIS_REPLAY_TIMEOUT_MS = 1_000;

/**
 * A {@link DpopReplayCache} in Redis or Valkey, for an API that runs as several instances. Each accepted proof costs
 * one atomic `SET <prefix><id> 1 NX PXAT <expiresAt>`: `OK` means first use, no reply (nil) means a replay, and the
 * key expires by itself at the last instant the proof could be accepted, so its TTL is never longer than the proof
 * window plus the clock tolerance. The key holds a SHA-256 of the proof's key and `jti`, nothing secret.
 *
 * When Redis fails, answers something else, or does not answer within `timeoutMs`, the proof is refused with a
 * `CliAuthError` (`server_error` or `timeout`, which {@link unauthorizedResponse} answers with 503), never accepted.
 * The verifier judges a proof's age by its own clock and Redis expires keys by its own: keep them in sync (NTP).
 *
 * @param send the client's raw-command call, e.g. node-redis `(args) => client.sendCommand(args)`
 * @param options key prefix and timeout
 * @returns the replay cache, for `createVerifier({ dpop: { replayCache } })`
 * @throws {CliAuthError} `invalid_options` for a `send` that is not a function, a prefix that is not a string, or a
 *   timeout that is not a positive number
 *
 * @example Every instance of an API sharing replays and nonces (node-redis)
 * ```ts ignore
 * import { createClient } from "redis";
 * import { createDpopNonceSource, createVerifier, redisReplayCache } from "@x/cli-auth/server";
 * declare const REDIS_URL: string, NONCE_SECRET_BASE64: string; // from your configuration and secret store
 *
 * const client = await createClient({ url: REDIS_URL }).connect();
 * const secret = Uint8Array.from(atob(NONCE_SECRET_BASE64), (c) => c.charCodeAt(0)); // 32 bytes or more
 * const verifier = createVerifier({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   dpop: {
 *     replayCache: redisReplayCache((args) => client.sendCommand(args), { prefix: "my-api:dpop:" }),
 *     nonce: createDpopNonceSource({ secret }),
 *   },
 * });
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @see https://redis.io/docs/latest/commands/set/
 */
export function redisReplayCache(send: RedisSend, options: RedisReplayCacheOptions = {}): DpopReplayCache {
  if (typeof send !== "function") {
    throw new CliAuthError("invalid_options", "redisReplayCache() needs the Redis client's raw-command function", {
      hint: "e.g. node-redis (args) => client.sendCommand(args), ioredis (args) => client.call(...args)",
    });
  }
  const prefix = options.prefix ?? DEFAULT_REDIS_REPLAY_PREFIX;
  if (typeof prefix !== "string") {
    throw new CliAuthError("invalid_options", "The Redis replay cache's `prefix` must be a string");
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_REPLAY_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CliAuthError("invalid_options", "The Redis replay cache's `timeoutMs` must be a positive number of ms");
  }
  return {
    async use(id, expiresAt) {
      const command = ["SET", `${prefix}${id}`, "1", "NX", "PXAT", String(Math.ceil(expiresAt))];
      const reply = await withTimeout(() => send(command), timeoutMs);
      const text = typeof reply === "string" ? reply : reply instanceof Uint8Array ? new TextDecoder().decode(reply) : reply;
      if (text === "OK") return true;
      if (text === null || text === undefined) return false;
      throw new CliAuthError("server_error", "The DPoP replay cache (Redis) answered SET NX with an unexpected reply", {
        hint: "Check that `send` passes the command to Redis or Valkey unchanged and resolves to its reply",
      });
    },
  };
}

/** `send()`'s reply, or a `CliAuthError` when it fails or takes longer than `timeoutMs`. */
async function withTimeout(send: () => Promise<unknown>, timeoutMs: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new CliAuthError("timeout", `The DPoP replay cache (Redis) did not answer within ${timeoutMs} ms`, {
          hint: "Check that the API can reach Redis; DPoP requests are refused (503) until it answers",
        }),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(send), expired]);
  } catch (error) {
    if (error instanceof CliAuthError) throw error;
    throw new CliAuthError("server_error", `The DPoP replay cache (Redis) failed: ${sanitizedCause(error)?.message ?? "unknown error"}`, {
      cause: sanitizedCause(error),
      hint: "Check that the API can reach Redis; DPoP requests are refused (503) until it answers",
    });
  } finally {
    clearTimeout(timer);
  }
}
