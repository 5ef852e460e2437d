/**
 * The checks every access token's claims pass, whether they came from a JWT payload (RFC 9068 §4) or from an
 * introspection response (RFC 7662 §2.2): issuer, audience, expiry, not-before, subject.
 *
 * @module
 */

import { invalidToken } from "./_refusals.ts";

/** What the claims must say, and the clock to judge time by. */
export interface ClaimExpectations {
  /** The `iss` the token must carry (compared exactly, RFC 9068 §4 step 3). */
  issuer: string;
  /** One value the `aud` claim must carry (RFC 9068 §4 step 4). */
  audience: string;
  /** Allowed clock difference for `exp`, `nbf` and `iat`, in seconds. */
  clockToleranceSeconds: number;
  /** The current time, epoch ms. */
  now: () => number;
}

/** Which claims are mandatory (a JWT access token must carry `iss` and `exp`; an introspection response need not). */
export interface ClaimRequirements {
  issuer: boolean;
  expiry: boolean;
}

/**
 * Checks `iss`, `aud`, `exp`, `nbf`, `iat` and `sub`.
 *
 * @param claims the claims
 * @param expected issuer, audience, clock
 * @param required which of `iss` / `exp` must be present
 * @returns the subject and the expiry (epoch ms)
 * @throws {CliAuthError} `invalid_token`
 */
export function checkAccessTokenClaims(
  claims: Record<string, unknown>,
  expected: ClaimExpectations,
  required: ClaimRequirements,
): { subject: string; expiresAt?: number } {
  const { iss, aud, exp, nbf, iat, sub } = claims;
  if (iss === undefined ? required.issuer : iss !== expected.issuer) {
    throw invalidToken("The access token was issued by another issuer");
  }
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(expected.audience)) throw invalidToken("The access token is meant for another audience");

  const now = expected.now() / 1000;
  const tolerance = expected.clockToleranceSeconds;
  if (exp === undefined) {
    if (required.expiry) throw invalidToken("The access token has no expiry (exp)");
  } else if (!isNumericDate(exp)) {
    throw invalidToken("The access token's exp claim is not a number");
  } else if (exp <= now - tolerance) {
    throw invalidToken("The access token has expired");
  }
  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) throw invalidToken("The access token's nbf claim is not a number");
    if (nbf > now + tolerance) throw invalidToken("The access token is not valid yet");
  }
  if (iat !== undefined && !isNumericDate(iat)) throw invalidToken("The access token's iat claim is not a number");
  if (typeof sub !== "string" || sub === "") throw invalidToken("The access token names no subject (sub)");
  return { subject: sub, expiresAt: typeof exp === "number" ? exp * 1000 : undefined };
}

function isNumericDate(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}
