/**
 * A short, bounded retry for requests that failed without an answer or with a 5xx: what a refresh does before
 * giving up (and keeping the session for the next try).
 *
 * @module
 */

import { isCliAuthError } from "../common/errors.ts";

/**
 * Options of {@link withRetry}.
 *
 * @example Usage
 * ```ts
 * import type { RetryOptions } from "@x/cli-auth";
 * const options: RetryOptions = { delaysMs: [200, 800] };
 * ```
 */
export interface RetryOptions {
  /** Waits before each retry; its length is the number of retries (default 200 ms, then 800 ms). */
  delaysMs?: readonly number[];
  /** Stops retrying. */
  signal?: AbortSignal;
}

/**
 * Runs `fn`, retrying after `network_error`, `timeout` and `server_error` with the given delays. Any other error,
 * or the last failure, is thrown.
 *
 * @param fn the attempt
 * @param options delays and a signal
 * @returns what `fn` returned
 *
 * @example Usage
 * ```ts
 * import { withRetry } from "@x/cli-auth/protocol";
 * const value = await withRetry(() => Promise.resolve(42), { delaysMs: [100] });
 * ```
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const delays = options.delaysMs ?? [200, 800];
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const retryable = isCliAuthError(error, "network_error", "timeout", "server_error");
      if (!retryable || attempt >= delays.length || options.signal?.aborted) throw error;
      await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
    }
  }
}
