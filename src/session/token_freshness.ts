/**
 * When an access token still counts as fresh.
 *
 * @module
 */

import type { TokenSet } from "../protocol/token_set.ts";

/** Refresh when the access token expires within this many seconds, unless told otherwise. */
export const DEFAULT_REFRESH_SKEW_SECONDS = 30;

/**
 * Whether `tokens.accessToken` is valid for at least `skewSeconds` more, the margin being never more than half the
 * token's lifetime as issued (`expiresAt - issuedAt`): a token that lives shorter than twice the skew is still fresh
 * for the first half of its life, rather than due for refresh from the moment it is issued. Without `issuedAt` (a
 * session stored by an older version) the whole skew applies. A token without `expiresAt` (the server did not say)
 * counts as fresh: the API's `401` will tell, and `auth.fetch` refreshes then.
 *
 * @param tokens the tokens
 * @param now the current time, epoch ms
 * @param skewSeconds the margin
 * @returns true when no refresh is needed
 *
 * @example Usage
 * ```ts
 * import { isFresh } from "@x/cli-auth/protocol";
 * isFresh({ accessToken: "a", tokenType: "Bearer", expiresAt: Date.now() + 60_000 }, Date.now(), 30); // true
 * // A 10-s token issued just now: fresh for 5 s, although it expires within the 30-s skew.
 * isFresh({ accessToken: "a", tokenType: "Bearer", issuedAt: Date.now(), expiresAt: Date.now() + 10_000 }, Date.now(), 30); // true
 * ```
 */
export function isFresh(tokens: TokenSet, now: number, skewSeconds: number): boolean {
  const { expiresAt, issuedAt } = tokens;
  if (expiresAt === undefined) return true;
  let skewMs = skewSeconds * 1000;
  if (typeof issuedAt === "number" && Number.isFinite(issuedAt)) skewMs = Math.min(skewMs, Math.max(0, (expiresAt - issuedAt) / 2));
  return expiresAt - skewMs > now;
}
