/**
 * The end of the code flow: validating the authorization response (state, RFC 9207 `iss`, `error`) and exchanging
 * the code for tokens with the PKCE verifier.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { CliAuthError, sanitizedCause } from "../common/errors.ts";
import { toCliAuthError } from "../common/error_mapping.ts";
import { retryOnDpopNonce } from "./dpop.ts";
import { requestOptions } from "../common/http.ts";
import type { IDToken } from "./oauth_types.ts";
import { type ProtocolContext, resourceParameters } from "./protocol_context.ts";
import { type TokenSet, toTokenSet } from "./token_set.ts";
import {
  checkAuthenticationPerformed,
  clientRequiringAuthTime,
  type RequestedAuthentication,
} from "./requested_authentication.ts";

/**
 * Tokens from a grant, plus the validated ID token claims when an ID token came.
 *
 * @example Usage
 * ```ts
 * import type { GrantResult } from "@x/cli-auth";
 * function subject(result: GrantResult) { return result.claims?.sub; }
 * ```
 */
export interface GrantResult {
  /** The tokens the token endpoint issued, in the library's shape. */
  tokens: TokenSet;
  /** Validated ID token claims (`sub`, `email`, …), when the server sent an ID token. */
  claims?: IDToken;
}

/**
 * Validates the parameters the browser brought back to the redirect URI: exactly one `state` equal to the one sent,
 * the `iss` parameter (RFC 9207) equal to the issuer when present (or required by the server's metadata), and no
 * `error`.
 *
 * @param context the protocol context
 * @param parameters the callback URL or its query
 * @param expectedState the `state` sent on the authorization request
 * @returns the validated parameters, to pass to {@link exchangeAuthorizationCode}
 * @throws {CliAuthError} `state_mismatch`, `issuer_mismatch`, `access_denied` (or the server's error), `invalid_response`
 *
 * @example Usage
 * ```ts
 * import { createProtocolContext, validateCallback } from "@x/cli-auth/protocol";
 * const context = createProtocolContext({ issuer: "https://auth.example.com" }, { clientId: "my-cli" });
 * const params = validateCallback(context, new URL("http://127.0.0.1:8080/callback?code=abc&state=xyz"), "xyz");
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
 */
export function validateCallback(context: ProtocolContext, parameters: URLSearchParams | URL, expectedState: string): URLSearchParams {
  const params = parameters instanceof URL ? parameters.searchParams : parameters;
  try {
    return oauth.validateAuthResponse(context.as, context.client, params, expectedState);
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) throw toCliAuthError(error, "authorization");
    const states = params.getAll("state");
    const issuers = params.getAll("iss");
    if (error instanceof oauth.OperationProcessingError) {
      if (issuers.length === 1 && issuers[0] !== context.as.issuer || issuers.length === 0 && context.as.authorization_response_iss_parameter_supported) {
        throw new CliAuthError("issuer_mismatch", "The authorization response came from a different issuer", {
          cause: sanitizedCause(error),
          hint: "Check the `issuer` option; the response may have been forged or mixed up with another server",
        });
      }
      if (states.length !== 1 || states[0] !== expectedState) {
        throw new CliAuthError("state_mismatch", "The authorization response does not carry this login's state", {
          cause: sanitizedCause(error),
          hint: "Start the login again and finish it in the browser window it opened",
        });
      }
    }
    throw toCliAuthError(error, "authorization");
  }
}

/**
 * Options of {@link exchangeAuthorizationCode}.
 *
 * @example Usage
 * ```ts
 * import type { CodeExchangeOptions } from "@x/cli-auth";
 * declare const codeVerifier: string;
 * const options: CodeExchangeOptions = {
 *   redirectUri: "http://127.0.0.1:53682/callback", codeVerifier, acrValues: ["urn:example:mfa"], requestedAt: Date.now(),
 * };
 * ```
 */
export interface CodeExchangeOptions extends RequestedAuthentication {
  /** The redirect URI of the authorization request. */
  redirectUri: string;
  /** The PKCE verifier of the authorization request. */
  codeVerifier: string;
  /** Cancels the request. */
  signal?: AbortSignal;
  /** The clock, epoch ms (default `Date.now`). */
  now?: () => number;
  /**
   * When the authorization request asked for `acrValues` / `maxAge`, epoch ms (default: now): `auth_time` is
   * judged against it.
   */
  requestedAt?: number;
}

/**
 * Exchanges the authorization code for tokens (RFC 6749 §4.1.3) with the PKCE verifier, sending the resource
 * indicators, and validates the response (token type, ID token claims). With `acrValues` / `maxAge` (what the
 * authorization request asked for), the ID token's `acr` and `auth_time` are checked against them.
 *
 * @param context the protocol context
 * @param callbackParameters what {@link validateCallback} returned
 * @param options the redirect URI used, the PKCE verifier, what the sign-in was asked to be, an optional signal and clock
 * @returns tokens and ID token claims
 * @throws {CliAuthError} `invalid_grant` (wrong verifier, reused or expired code), `access_denied` (the server did not perform the requested authentication), `network_error`, `timeout`, `server_error`, `invalid_response` (also: `maxAge` asked and the ID token has no `auth_time`)
 *
 * @example Usage
 * ```ts
 * import { createProtocolContext, exchangeAuthorizationCode, validateCallback } from "@x/cli-auth/protocol";
 * declare const context: ReturnType<typeof createProtocolContext>;
 * declare const callbackUrl: URL, state: string, codeVerifier: string, redirectUri: string;
 * const params = validateCallback(context, callbackUrl, state);
 * const { tokens } = await exchangeAuthorizationCode(context, params, { redirectUri, codeVerifier });
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 */
export async function exchangeAuthorizationCode(
  context: ProtocolContext,
  callbackParameters: URLSearchParams,
  options: CodeExchangeOptions,
): Promise<GrantResult> {
  const { as, clientAuth } = context;
  const client = clientRequiringAuthTime(context.client, options);
  const now = options.now?.() ?? Date.now();
  try {
    const result = await retryOnDpopNonce(context.dpop, async () => {
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        callbackParameters,
        options.redirectUri,
        options.codeVerifier,
        {
          ...requestOptions(context.http, "token", options.signal),
          additionalParameters: resourceParameters(context),
          DPoP: context.dpop,
        },
      );
      return await oauth.processAuthorizationCodeResponse(as, client, response);
    });
    const grant = grantResult(result, now);
    checkAuthenticationPerformed(grant.claims, options, options.requestedAt ?? now);
    return grant;
  } catch (error) {
    throw toCliAuthError(error, "token");
  }
}

/**
 * Builds a {@link GrantResult} from a processed token response.
 *
 * @param response the processed token endpoint response
 * @param now the current time, epoch ms
 * @param previous the tokens being replaced (refresh)
 * @returns tokens and validated ID token claims
 */
export function grantResult(response: oauth.TokenEndpointResponse, now: number, previous?: TokenSet): GrantResult {
  const result: GrantResult = { tokens: toTokenSet(response, now, previous) };
  const claims = oauth.getValidatedIdTokenClaims(response);
  if (claims) result.claims = claims;
  return result;
}
