/**
 * JWT access tokens (RFC 9068) checked locally with jose's `jwtVerify`: algorithm allow-list, `typ`, `iss`, `aud`,
 * `exp`, `nbf` with the clock tolerance, required claims, and the signature with the issuer's key.
 *
 * @module
 */

import { base64url, type FlattenedJWSInput, type JWSHeaderParameters, jwtVerify } from "jose";
import { invalidToken } from "./_refusals.ts";
import type { IssuerKey } from "./issuer_key_set.ts";
import { joseRefusal, type JwtRole } from "./_jose_errors.ts";
import { type ClaimExpectations, checkAccessTokenClaims } from "./_token_claims.ts";
import { clientIdOf, scopesOf, type VerifiedToken } from "./verified_token.ts";

/** What a JWT access token is checked against. */
export interface JwtAccessTokenExpectations extends ClaimExpectations {
  /** Accepted JWS algorithms. */
  algorithms: readonly string[];
  /** Whether the `typ` header must be `at+jwt` (RFC 9068 §4 step 1). */
  requireAtJwtTyp: boolean;
  /** The issuer's key for a header. */
  key: IssuerKey;
}

/** An access token: refusals are `invalid_token`, described as they always were. */
const ACCESS_TOKEN: JwtRole = {
  noun: "access token",
  wrongType: 'The token is not a JWT access token (typ "at+jwt")',
  claims: {
    iss: "The access token was issued by another issuer",
    aud: "The access token is meant for another audience",
    exp: "The access token has expired",
    nbf: "The access token is not valid yet",
    iat: "The access token's iat claim is not a number",
    sub: "The access token names no subject (sub)",
  },
  invalid: (description, cause) => invalidToken(description, { cause }),
};

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Whether a token has the shape of a compact JWS (three base64url parts); says nothing about its validity.
 *
 * @param token the token
 * @returns `true` for `xxx.yyy.zzz`
 */
export function looksLikeJwt(token: string): boolean {
  return COMPACT_JWS.test(token);
}

/**
 * Verifies a JWT access token with `jwtVerify`. Before the issuer's key is looked up (in the key function jose
 * calls once the header's algorithm is allowed), the `typ` header and the claims are checked, so that a token for
 * another issuer or audience, or an expired one, is refused without a key lookup (which could cause a key set
 * reload); jose checks them again after the signature, and nothing is accepted before the signature is verified.
 *
 * @param token the compact JWS
 * @param expected issuer, audience, algorithms, clock, key lookup
 * @returns the verified token
 * @throws {CliAuthError} `invalid_token`; and whatever the key lookup throws when the key set cannot be had
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export async function verifyJwtAccessToken(token: string, expected: JwtAccessTokenExpectations): Promise<VerifiedToken> {
  const now = expected.now();
  let checked: { subject: string; expiresAt?: number } | undefined;
  const key = (header: JWSHeaderParameters, jws: FlattenedJWSInput): Promise<CryptoKey> => {
    if (expected.requireAtJwtTyp && !isAtJwt(header.typ)) throw invalidToken(ACCESS_TOKEN.wrongType);
    checked = checkAccessTokenClaims(decodeClaims(jws.payload), { ...expected, now: () => now }, {
      issuer: true,
      expiry: true,
    });
    return expected.key(header, jws);
  };
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(token, key, {
      algorithms: [...expected.algorithms],
      typ: expected.requireAtJwtTyp ? "at+jwt" : undefined,
      issuer: expected.issuer,
      audience: expected.audience,
      clockTolerance: expected.clockToleranceSeconds,
      currentDate: new Date(now),
      requiredClaims: ["exp", "sub"],
    }));
  } catch (error) {
    throw joseRefusal(error, ACCESS_TOKEN);
  }
  const { subject, expiresAt } = checked!;
  const result: VerifiedToken = { subject, type: "jwt", scopes: scopesOf(claims), claims, expiresAt };
  const clientId = clientIdOf(claims);
  if (clientId !== undefined) result.clientId = clientId;
  return result;
}

/** The claims of a JWS payload, or `invalid_token` when they are not a JSON object. */
function decodeClaims(payload: string | Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(base64url.decode(payload)));
  } catch {
    value = undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidToken("The access token is not a well-formed JWT");
  }
  return value as Record<string, unknown>;
}

/** RFC 9068 §4: `typ` is `at+jwt` or `application/at+jwt`, compared without regard to case (RFC 7515 §4.1.9). */
function isAtJwt(typ: unknown): boolean {
  if (typeof typ !== "string") return false;
  const value = typ.toLowerCase();
  return value === "at+jwt" || value === "application/at+jwt";
}
