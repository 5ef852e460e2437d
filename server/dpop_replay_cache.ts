/**
 * Replay detection for DPoP proofs (RFC 9449 §11.1): each proof's `jti` is remembered for as long as the proof
 * would be accepted, and a second use is refused. The built-in cache lives in memory, bounded; servers running as
 * several instances share one through the {@link DpopReplayCache} contract (e.g. Redis `SET key 1 NX PXAT expiresAt`).
 *
 * @module
 */

import { CliAuthError } from "../src/common/errors.ts";
import { invalidDpopProof } from "./_refusals.ts";

/**
 * Where the proofs already seen are kept. `use` must be atomic: of two concurrent calls with one `id`, exactly one
 * may answer `true`.
 *
 * @example A cache shared by every instance (Redis)
 * ```ts
 * import type { DpopReplayCache } from "@x/cli-auth/server";
 * declare const redis: { set(key: string, value: string, options: { NX: true; PXAT: number }): Promise<string | null> };
 * const replayCache: DpopReplayCache = {
 *   use: async (id, expiresAt) => (await redis.set(`dpop:${id}`, "1", { NX: true, PXAT: expiresAt })) === "OK",
 * };
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
export interface DpopReplayCache {
  /**
   * Records one use of a proof.
   *
   * @param id the proof's identity: 43 base64url characters (SHA-256 of its key's thumbprint and its `jti`), so a
   *   key in any store stays small whatever `jti` the client chose
   * @param expiresAt epoch ms: the last instant at which the proof is accepted for its age (inclusive). The record
   *   must be kept through it and may go after it (Redis `PXAT` keeps a key through its instant).
   * @param now epoch ms: the time the verifier judged the proof's age by, read once per verification. A cache in
   *   this process should judge expiry by it; a cache with a clock of its own (Redis) may ignore it.
   * @returns `true` the first time an `id` is seen, `false` for a replay
   * @throws {CliAuthError} when the proof cannot be recorded: the verifier refuses the proof, never accepts it
   */
  use(id: string, expiresAt: number, now?: number): boolean | Promise<boolean>;
}

/**
 * Options of {@link createDpopReplayCache}.
 *
 * @example Usage
 * ```ts
 * import type { DpopReplayCacheOptions } from "@x/cli-auth/server";
 * const options: DpopReplayCacheOptions = { maxEntries: 1_000_000 };
 * ```
 */
export interface DpopReplayCacheOptions {
  /**
   * How many unexpired proofs are remembered at most (default 100 000). When that many are held, a new proof is
   * refused (`invalid_dpop_proof`) rather than a live one forgotten: forgetting would let a flood of fresh proofs
   * make room for a captured one to be replayed. A proof is remembered until its `iat` plus the proof window plus
   * the clock tolerance: about 90 s by default for a client whose clock is right, up to 180 s for one whose clock
   * runs ahead (`iat` in the future). Size it above the DPoP requests per second times 180 s: the default holds 555
   * requests per second whatever the clients' clocks say (1 111 when they are right); an entry costs ~100 bytes.
   */
  maxEntries?: number;
  /** The clock, epoch ms (default `Date.now`): for tests, and when `use` is called without the verifier's time. */
  now?: () => number;
}

/**
 * Default {@link DpopReplayCacheOptions.maxEntries}: 100 000 proofs (about 10 MB), enough for 555 DPoP requests
 * per second with the default proof window and clock tolerance.
 *
 * @example Usage
 * ```ts
 * import { createDpopReplayCache, DEFAULT_DPOP_REPLAY_ENTRIES } from "@x/cli-auth/server";
 * const replayCache = createDpopReplayCache({ maxEntries: 10 * DEFAULT_DPOP_REPLAY_ENTRIES });
 * ```
 */
export const DEFAULT_DPOP_REPLAY_ENTRIES = 100_000;

/** While full, expired entries are looked for all through the cache at most this often. */
const FULL_SWEEP_INTERVAL_MS = 1_000;

/**
 * An in-memory {@link DpopReplayCache} for one running server. Every verifier has one unless given another; make
 * one yourself to size it, or to share it between the verifiers of one server. An API that runs as several
 * instances shares one in Redis or Valkey instead ({@link redisReplayCache}).
 *
 * It fails closed: when `maxEntries` unexpired proofs are held, `use` throws `invalid_token` (OAuth error
 * `invalid_dpop_proof`, so the client is told to retry) with a message and hint for the server's log, and forgets
 * nothing until entries expire.
 *
 * @param options size and clock
 * @returns the cache
 * @throws {CliAuthError} `invalid_options` for a `maxEntries` that is not a positive integer
 *
 * @example One cache for two verifiers (two audiences served by one process)
 * ```ts
 * import { createDpopReplayCache, createVerifier } from "@x/cli-auth/server";
 * const replayCache = createDpopReplayCache({ maxEntries: 500_000 });
 * const issuer = "https://auth.example.com";
 * const api = createVerifier({ issuer, audience: "https://api.example.com", dpop: { replayCache } });
 * const files = createVerifier({ issuer, audience: "https://files.example.com", dpop: { replayCache } });
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
export function createDpopReplayCache(options: DpopReplayCacheOptions = {}): DpopReplayCache {
  const maxEntries = options.maxEntries ?? DEFAULT_DPOP_REPLAY_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new CliAuthError("invalid_options", "The DPoP replay cache's `maxEntries` must be a positive integer");
  }
  const clock = options.now ?? Date.now;
  /**
   * id -> last instant it is kept (epoch ms), in insertion order: roughly expiry order, since proofs arrive about
   * when they are made, but a client chooses its `iat` within the window.
   */
  const seen = new Map<string, number>();
  let nextFullSweep = -Infinity;
  return {
    use(id, expiresAt, now = clock()) {
      const previous = seen.get(id);
      if (previous !== undefined && previous >= now) return false;
      if (previous !== undefined) seen.delete(id);
      // Drop expired entries from the old end; stop at the first live one (amortised O(1) per call).
      for (const [oldest, expiry] of seen) {
        if (expiry >= now) break;
        seen.delete(oldest);
      }
      if (seen.size >= maxEntries && now >= nextFullSweep) {
        // Expired entries behind a live one: look through all of them, at most once a second while full.
        nextFullSweep = now + FULL_SWEEP_INTERVAL_MS;
        for (const [key, expiry] of seen) if (expiry < now) seen.delete(key);
      }
      if (seen.size >= maxEntries) throw cacheFull(maxEntries);
      seen.set(id, expiresAt);
      return true;
    },
  };
}

function cacheFull(maxEntries: number): CliAuthError {
  return invalidDpopProof(
    "The DPoP proof was refused: the server's DPoP replay cache is full",
    new Error(`DPoP replay cache full: ${maxEntries} unexpired proofs held (maxEntries ${maxEntries})`),
    "Raise createDpopReplayCache({ maxEntries }) above the DPoP requests per second times 180 s (twice the " +
      "proof window plus the clock tolerance), or use a Redis/Valkey replay cache; a sudden flood of fresh proofs " +
      "is an attack on the cache",
  );
}
