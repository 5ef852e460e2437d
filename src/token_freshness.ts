/**
 * When an access token still counts as fresh.
 *
 * @module
 */

import type { TokenSet } from "./token_set.ts";

/** Refresh when the access token expires within this many seconds, unless told otherwise. */
export const DEFAULT_REFRESH_SKEW_SECONDS = 30;

/**
 * Whether `tokens.accessToken` is valid for at least `skewSeconds` more. A token without `expiresAt` (the server
 * did not say) counts as fresh: the API's `401` will tell, and `auth.fetch` refreshes then.
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
 * ```
 */
export function isFresh(tokens: TokenSet, now: number, skewSeconds: number): boolean {
  return tokens.expiresAt === undefined || tokens.expiresAt - skewSeconds * 1000 > now;
}
