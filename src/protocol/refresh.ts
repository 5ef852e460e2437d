/**
 * The refresh token grant (RFC 6749 §6).
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { CliAuthError } from "../common/errors.ts";
import { toCliAuthError } from "../common/error_mapping.ts";
import { retryOnDpopNonce } from "./dpop.ts";
import { requestOptions } from "../common/http.ts";
import { type GrantResult, grantResult } from "./code_exchange.ts";
import { type ProtocolContext, resourceParameters } from "./protocol_context.ts";
import type { TokenSet } from "./token_set.ts";

/**
 * Exchanges the refresh token of `previous` for new tokens. A rotated refresh token replaces the old one; when the
 * server keeps it, the old one is carried over. Resource indicators are sent again so the new access token has the
 * same audience.
 *
 * @param context the protocol context
 * @param previous the tokens to refresh (must hold a refresh token)
 * @param options an optional signal and clock
 * @returns the new tokens
 * @throws {CliAuthError} `invalid_grant` (revoked, expired or already rotated), `network_error`, `timeout`, `server_error`, `invalid_response`, `session_expired` (no refresh token)
 *
 * @example Usage
 * ```ts
 * import { refreshTokens, type ProtocolContext, type TokenSet } from "@x/cli-auth/protocol";
 * declare const context: ProtocolContext, tokens: TokenSet;
 * const { tokens: fresh } = await refreshTokens(context, tokens);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export async function refreshTokens(
  context: ProtocolContext,
  previous: TokenSet,
  options: { signal?: AbortSignal; now?: () => number } = {},
): Promise<GrantResult> {
  if (!previous.refreshToken) {
    throw new CliAuthError("session_expired", "The session has no refresh token and its access token expired", {
      hint: "Log in again (ask for the `offline_access` scope to stay signed in)",
    });
  }
  const { as, client, clientAuth } = context;
  try {
    const refreshToken = previous.refreshToken;
    const result = await retryOnDpopNonce(context.dpop, async () => {
      const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, {
        ...requestOptions(context.http, "refresh", options.signal),
        additionalParameters: resourceParameters(context),
        DPoP: context.dpop,
      });
      return await oauth.processRefreshTokenResponse(as, client, response);
    });
    return grantResult(result, options.now?.() ?? Date.now(), previous);
  } catch (error) {
    throw toCliAuthError(error, "refresh");
  }
}
