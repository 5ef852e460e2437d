/**
 * Replay detection for DPoP proofs (RFC 9449 §11.1): each proof's `jti` is remembered for as long as the proof
 * would be accepted, and a second use is refused. The built-in cache lives in memory, bounded; servers running as
 * several instances share one through the {@link DpopReplayCache} contract (e.g. Redis `SET key 1 NX PXAT expiresAt`).
 *
 * @module
 */

import { CliAuthError } from "../src/errors.ts";

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
   * @param expiresAt epoch ms after which the proof is refused for its age anyway: the record may go then
   * @returns `true` the first time an `id` is seen, `false` for a replay
   */
  use(id: string, expiresAt: number): boolean | Promise<boolean>;
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
   * How many proofs are remembered at most (default 100 000). When that many unexpired proofs are held, the oldest
   * is forgotten: size it above the proofs per second times the proof window (2 × (60 + 30) s by default).
   */
  maxEntries?: number;
  /** The clock, epoch ms (default `Date.now`): for tests. */
  now?: () => number;
}

/**
 * Default {@link DpopReplayCacheOptions.maxEntries}: 100 000 proofs (a few MB).
 *
 * @example Usage
 * ```ts
 * import { createDpopReplayCache, DEFAULT_DPOP_REPLAY_ENTRIES } from "@x/cli-auth/server";
 * const replayCache = createDpopReplayCache({ maxEntries: 10 * DEFAULT_DPOP_REPLAY_ENTRIES });
 * ```
 */
export const DEFAULT_DPOP_REPLAY_ENTRIES = 100_000;

/**
 * An in-memory {@link DpopReplayCache} for one running server. Every verifier has one unless given another; make
 * one yourself to size it, or to share it between the verifiers of one server.
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
  const now = options.now ?? Date.now;
  /** id -> expiry (epoch ms), in insertion order: roughly expiry order, since proofs arrive about when they are made. */
  const seen = new Map<string, number>();
  return {
    use(id, expiresAt) {
      const time = now();
      const previous = seen.get(id);
      if (previous !== undefined && previous > time) return false;
      if (previous !== undefined) seen.delete(id);
      // Drop expired entries from the old end; stop at the first live one (amortised O(1) per call).
      for (const [oldest, expiry] of seen) {
        if (expiry > time) break;
        seen.delete(oldest);
      }
      while (seen.size >= maxEntries) seen.delete(seen.keys().next().value!);
      seen.set(id, expiresAt);
      return true;
    },
  };
}
