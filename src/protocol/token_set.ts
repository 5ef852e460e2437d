/**
 * The tokens of a session, in the library's own shape (epoch-millisecond expiry, scopes as a list).
 *
 * @module
 */

import type { TokenEndpointResponse } from "./oauth_types.ts";

/**
 * The tokens of a session.
 *
 * @example Usage
 * ```ts
 * import type { TokenSet } from "@x/cli-auth";
 * const tokens: TokenSet = { accessToken: "…", tokenType: "Bearer", expiresAt: Date.now() + 3_600_000 };
 * ```
 */
export interface TokenSet {
  /** The access token. */
  accessToken: string;
  /** `"Bearer"` or `"DPoP"`. */
  tokenType: string;
  /** The refresh token, when the server issued one. */
  refreshToken?: string;
  /** The ID token, when the server issued one. */
  idToken?: string;
  /** When the access token expires, epoch milliseconds. */
  expiresAt?: number;
  /**
   * When the access token was received, epoch milliseconds: with `expiresAt`, its lifetime as issued, which bounds
   * how early it is refreshed. Absent in sessions stored by versions before it was kept.
   */
  issuedAt?: number;
  /** The granted scopes. */
  scope?: string[];
}

/**
 * Converts a token endpoint response into a {@link TokenSet}. A refresh response that omits the refresh token keeps
 * the previous one (RFC 6749 §6: the server may keep it unchanged). `now` becomes the tokens' `issuedAt`.
 *
 * @param response the processed token endpoint response
 * @param now the current time, epoch ms
 * @param previous the tokens being refreshed, if any
 * @returns the token set
 *
 * @example Usage
 * ```ts
 * import { toTokenSet } from "@x/cli-auth/protocol";
 * const tokens = toTokenSet({ access_token: "a", token_type: "bearer", expires_in: 60 }, Date.now());
 * ```
 */
export function toTokenSet(response: TokenEndpointResponse, now: number, previous?: TokenSet): TokenSet {
  const tokens: TokenSet = {
    accessToken: response.access_token,
    tokenType: normalizeTokenType(response.token_type),
  };
  const refreshToken = response.refresh_token ?? previous?.refreshToken;
  if (refreshToken) tokens.refreshToken = refreshToken;
  const idToken = response.id_token ?? previous?.idToken;
  if (idToken) tokens.idToken = idToken;
  if (typeof response.expires_in === "number") tokens.expiresAt = now + response.expires_in * 1000;
  tokens.issuedAt = now;
  const scope = response.scope ?? previous?.scope?.join(" ");
  if (typeof scope === "string") tokens.scope = scope.split(" ").filter(Boolean);
  return tokens;
}

function normalizeTokenType(tokenType: string): string {
  const lower = tokenType.toLowerCase();
  return lower === "bearer" ? "Bearer" : lower === "dpop" ? "DPoP" : tokenType;
}
