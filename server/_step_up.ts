/**
 * Step-up authentication (RFC 9470) on the API side: what one call demands of the sign-in behind a token (an `acr`
 * among `acrValues`, an `auth_time` at most `maxAge` seconds ago), checked on the claims of any kind of token: a JWT
 * access token's payload, an introspection answer, or the claims a personal access token's lookup returned.
 *
 * @module
 */

import { CliAuthError } from "../src/common/errors.ts";
import { insufficientUserAuthentication, invalidToken, type UserAuthenticationRequirements } from "./_refusals.ts";

/**
 * An `acr` value as it can stand in the challenge's space-separated, quoted `acr_values`: RFC 6749's NQCHAR without
 * the space (%x21 / %x23-5B / %x5D-7E).
 */
const ACR_VALUE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Checks a call's `acrValues` and `maxAge`.
 *
 * @param options the call's options
 * @returns the requirements, or `undefined` when the call has none
 * @throws {CliAuthError} `invalid_options` for an empty list, a value the challenge could not carry, or a `maxAge`
 *   that is not a whole number of seconds, 0 or more
 */
export function checkStepUpOptions(
  options: { acrValues?: unknown; maxAge?: unknown },
): UserAuthenticationRequirements | undefined {
  const { acrValues, maxAge } = options;
  if (acrValues === undefined && maxAge === undefined) return undefined;
  const required: UserAuthenticationRequirements = {};
  if (acrValues !== undefined) {
    if (
      !Array.isArray(acrValues) || acrValues.length === 0 ||
      acrValues.some((value) => typeof value !== "string" || !ACR_VALUE.test(value))
    ) {
      throw new CliAuthError(
        "invalid_options",
        "The `acrValues` option must list one or more acr values, each without spaces, quotes or backslashes",
      );
    }
    required.acrValues = [...acrValues];
  }
  if (maxAge !== undefined) {
    if (typeof maxAge !== "number" || !Number.isInteger(maxAge) || maxAge < 0) {
      throw new CliAuthError("invalid_options", "The `maxAge` option must be a whole number of seconds, 0 or more");
    }
    required.maxAge = maxAge;
  }
  return required;
}

/**
 * Checks the sign-in behind a verified token: its `acr` must be one of `acrValues`, and its `auth_time` no more than
 * `maxAge` seconds before now, with the verifier's clock tolerance (as for `exp` and `nbf`).
 *
 * @param claims the token's claims
 * @param required what the call demands
 * @param now the time of the verification, epoch ms
 * @param toleranceSeconds the verifier's clock tolerance
 * @throws {CliAuthError} `insufficient_user_authentication` (401) when the token falls short or does not say;
 *   `invalid_token` for an `auth_time` that is not a number
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function checkUserAuthentication(
  claims: Record<string, unknown>,
  required: UserAuthenticationRequirements,
  now: number,
  toleranceSeconds: number,
): void {
  if (required.acrValues !== undefined) {
    const acr = claims.acr;
    if (typeof acr !== "string") {
      throw insufficientUserAuthentication(
        "A different authentication level is required: the access token names none (acr)",
        required,
      );
    }
    if (!required.acrValues.includes(acr)) {
      throw insufficientUserAuthentication("A different authentication level is required (acr)", required);
    }
  }
  if (required.maxAge !== undefined) {
    const authTime = claims.auth_time;
    if (authTime === undefined) {
      throw insufficientUserAuthentication(
        "More recent authentication is required: the access token does not say when the user authenticated (auth_time)",
        required,
      );
    }
    if (typeof authTime !== "number" || !Number.isFinite(authTime)) {
      throw invalidToken("The access token's auth_time claim is not a number");
    }
    if (authTime + required.maxAge < now / 1000 - toleranceSeconds) {
      throw insufficientUserAuthentication(
        `More recent authentication is required (within the last ${required.maxAge} s)`,
        required,
      );
    }
  }
}
