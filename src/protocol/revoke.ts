/**
 * Token revocation (RFC 7009).
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { CliAuthError } from "../common/errors.ts";
import { toCliAuthError } from "../common/error_mapping.ts";
import { requestOptions } from "../common/http.ts";
import type { ProtocolContext } from "./protocol_context.ts";

/**
 * Revokes a token at the revocation endpoint. Revoking a refresh token also ends the access tokens of its grant on
 * most servers; the server answers 200 even for tokens it does not know (RFC 7009 §2.2).
 *
 * @param context the protocol context
 * @param token the token to revoke
 * @param options the `token_type_hint` and an optional signal
 * @throws {CliAuthError} `unsupported_flow` (no revocation endpoint), `network_error`, `timeout`, `server_error`, `invalid_response`
 *
 * @example Usage
 * ```ts
 * import { revokeToken, type ProtocolContext } from "@x/cli-auth/protocol";
 * declare const context: ProtocolContext, refreshToken: string;
 * await revokeToken(context, refreshToken, { tokenTypeHint: "refresh_token" });
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
export async function revokeToken(
  context: ProtocolContext,
  token: string,
  options: { tokenTypeHint?: "refresh_token" | "access_token"; signal?: AbortSignal } = {},
): Promise<void> {
  const { as, client, clientAuth } = context;
  if (!as.revocation_endpoint) {
    throw new CliAuthError("unsupported_flow", "The authorization server has no revocation endpoint", {
      hint: "Sign out at the provider's website to end the session there",
    });
  }
  try {
    const additionalParameters = new URLSearchParams();
    if (options.tokenTypeHint) additionalParameters.set("token_type_hint", options.tokenTypeHint);
    const response = await oauth.revocationRequest(as, client, clientAuth, token, {
      ...requestOptions(context.http, "revocation", options.signal),
      additionalParameters,
    });
    await oauth.processRevocationResponse(response);
  } catch (error) {
    throw toCliAuthError(error, "revocation");
  }
}
