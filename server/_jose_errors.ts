/**
 * jose's errors as the verifier's: every refusal of a JWT by `jwtVerify` (malformed, algorithm not allowed, critical
 * header, signature, `typ`, claims, no key) becomes the `CliAuthError` this package has always thrown for it, with
 * the same description, so that clients, logs and `WWW-Authenticate` challenges see no difference.
 *
 * @module
 */

import { errors } from "jose";
import { type CliAuthError, isCliAuthError, sanitizedCause } from "../src/common/errors.ts";

/** What a JWT is to the server, for the words and the error of a refusal: an access token, or a DPoP proof. */
export interface JwtRole {
  /** How messages name the JWT: "access token", "DPoP proof". */
  readonly noun: string;
  /** The description when its `typ` header is not the one required. */
  readonly wrongType: string;
  /** Descriptions when jose refuses a claim (missing, not a number, not the value expected), by claim name. */
  readonly claims: Readonly<Record<string, string>>;
  /** The error for a JWT that fails a check, with the underlying failure when there is one. */
  invalid(description: string, cause?: unknown): CliAuthError;
}

/**
 * The `CliAuthError` for anything `jwtVerify` (or the key lookup it calls) threw. A `CliAuthError` passes through
 * unchanged (the key lookup's own refusals, and a key set that cannot be fetched).
 *
 * @param error what was thrown
 * @param role what the JWT is
 * @returns the error to throw
 */
export function joseRefusal(error: unknown, role: JwtRole): CliAuthError {
  if (isCliAuthError(error)) return error;
  const cause = sanitizedCause(error);
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return role.invalid(`The ${role.noun}'s signing algorithm is not accepted`, cause);
  }
  if (isCriticalHeaderError(error)) {
    return role.invalid(`The ${role.noun} asks for critical header extensions this server does not understand`, cause);
  }
  if (error instanceof errors.JOSENotSupported) {
    return role.invalid(`The ${role.noun}'s signing algorithm is not accepted`, cause);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return role.invalid(`The ${role.noun}'s signature is invalid`, cause);
  }
  if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) {
    if (error.claim === "typ") return role.invalid(role.wrongType, cause);
    const description = Object.hasOwn(role.claims, error.claim) ? role.claims[error.claim] : undefined;
    return role.invalid(description ?? `The ${role.noun}'s ${error.claim} claim is not acceptable`, cause);
  }
  return role.invalid(`The ${role.noun} is not a well-formed JWT`, cause);
}

/** jose refuses a `crit` header it cannot honour with JWSInvalid or JOSENotSupported, naming the parameter. */
function isCriticalHeaderError(error: unknown): boolean {
  return (error instanceof errors.JWSInvalid || error instanceof errors.JOSENotSupported) &&
    /"crit"|Extension Header Parameter/.test(error.message);
}
