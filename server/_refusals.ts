/**
 * The refusals a verifier throws (RFC 6750 §3.1, RFC 9449 §7.1 and §9): each a {@link CliAuthError} with its code,
 * OAuth `error`, `error_description` and HTTP status, plus what the challenges need beyond those (a server nonce).
 * challenge.ts turns them into `WWW-Authenticate` headers; this file imports nothing else of the server.
 *
 * @module
 */

import { CliAuthError } from "../src/common/errors.ts";

/** How a failure was caused: no credentials at all (or an unknown scheme), or credentials that failed. */
interface InvalidTokenOptions {
  /**
   * The request carried no usable credentials (no `Authorization` header, or another scheme). RFC 6750 §3.1 says the
   * challenge then carries no error code.
   */
  missing?: boolean;
  /** The underlying failure, without the token. */
  cause?: unknown;
}

/**
 * A `CliAuthError` with code `invalid_token` and HTTP status 401. `errorDescription` is the text the
 * `WWW-Authenticate` header carries; it never contains the token.
 *
 * @param description a sentence that says what is wrong with the token, and nothing secret
 * @param options whether credentials were missing altogether, and the cause
 * @returns the error to throw
 */
export function invalidToken(description: string, options: InvalidTokenOptions = {}): CliAuthError {
  return new CliAuthError("invalid_token", description, {
    error: options.missing ? undefined : "invalid_token",
    errorDescription: description,
    status: 401,
    cause: options.cause,
  });
}

/**
 * A `CliAuthError` with code `invalid_token` (status 401) whose OAuth error is `invalid_dpop_proof`: the DPoP proof
 * itself is missing, malformed, badly signed, for another request, too old or replayed (RFC 9449 §7.1).
 *
 * @param description what is wrong with the proof, nothing secret
 * @param cause the underlying failure
 * @param hint what the server's operator can do, when it is the server's side that refused
 * @returns the error to throw
 */
export function invalidDpopProof(description: string, cause?: unknown, hint?: string): CliAuthError {
  return new CliAuthError("invalid_token", description, {
    error: "invalid_dpop_proof",
    errorDescription: description,
    status: 401,
    cause,
    hint,
  });
}

/** Nonces to send in `DPoP-Nonce` with a `use_dpop_nonce` error. */
const nonces = new WeakMap<CliAuthError, string>();

/**
 * A `CliAuthError` with code `invalid_token` (status 401) whose OAuth error is `use_dpop_nonce`: the proof carried
 * no nonce, or one this server no longer accepts; the answer hands out `nonce` in a `DPoP-Nonce` header (RFC 9449 §9).
 *
 * @param nonce the nonce the client is to use
 * @returns the error to throw
 */
export function useDpopNonce(nonce: string): CliAuthError {
  const description = "This API requires a server nonce in DPoP proofs: retry with the one in the DPoP-Nonce header";
  const error = new CliAuthError("invalid_token", description, {
    error: "use_dpop_nonce",
    errorDescription: description,
    status: 401,
  });
  nonces.set(error, nonce);
  return error;
}

/**
 * The nonce a `use_dpop_nonce` refusal hands out, for the `DPoP-Nonce` header.
 *
 * @param error a refusal
 * @returns the nonce, or `undefined` for any other error
 */
export function nonceOf(error: CliAuthError): string | undefined {
  return nonces.get(error);
}

/**
 * A `CliAuthError` with code `insufficient_scope` and HTTP status 403, naming the scopes the request needs.
 *
 * @param required the scopes the route requires
 * @returns the error to throw
 */
export function insufficientScope(required: readonly string[]): CliAuthError {
  const description = `The access token lacks a required scope (${required.join(" ")})`;
  return new CliAuthError("insufficient_scope", description, {
    error: "insufficient_scope",
    errorDescription: description,
    status: 403,
    scopes: [...required],
    hint: "Log in again asking for the scopes this API requires",
  });
}

/**
 * What a call demanded of the user's sign-in (RFC 9470 §3): the `acr` values it accepts and the greatest age of the
 * authentication, in seconds.
 */
export interface UserAuthenticationRequirements {
  /** The authentication context class references the call accepts (`acr_values` in the challenge). */
  acrValues?: readonly string[];
  /** How many seconds ago the user may have authenticated at most (`max_age` in the challenge). */
  maxAge?: number;
}

/** What a step-up refusal asks for, for the `acr_values` and `max_age` of its challenge. */
const stepUps = new WeakMap<CliAuthError, UserAuthenticationRequirements>();

/**
 * A `CliAuthError` with code `insufficient_user_authentication` and HTTP status 401 (RFC 9470 §3): the token is valid
 * but the sign-in behind it is too weak (`acr`) or too old (`auth_time`); the challenge names what to ask for.
 *
 * @param description what falls short, nothing secret
 * @param required what the call demanded: it goes into the challenge as `acr_values` and `max_age`
 * @returns the error to throw
 */
export function insufficientUserAuthentication(
  description: string,
  required: UserAuthenticationRequirements,
): CliAuthError {
  const error = new CliAuthError("insufficient_user_authentication", description, {
    error: "insufficient_user_authentication",
    errorDescription: description,
    status: 401,
    hint: "Log in again with the authentication the challenge asks for (acr_values, max_age)",
  });
  stepUps.set(error, required);
  return error;
}

/**
 * What a step-up refusal asks for.
 *
 * @param error a refusal
 * @returns the requirements, or `undefined` for any other error
 */
export function stepUpOf(error: CliAuthError): UserAuthenticationRequirements | undefined {
  return stepUps.get(error);
}
