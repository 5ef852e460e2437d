/**
 * JWT access tokens (RFC 9068) checked locally: header, type, claims, then the signature with the issuer's key.
 *
 * @module
 */

import { invalidToken } from "./challenge.ts";
import { checkJwsHeader, decodeJws, type JwsHeader, verifyJwsSignature } from "./jws.ts";
import { type ClaimExpectations, checkAccessTokenClaims } from "./token_claims.ts";
import { clientIdOf, scopesOf, type VerifiedToken } from "./verified_token.ts";

/** What a JWT access token is checked against. */
export interface JwtAccessTokenExpectations extends ClaimExpectations {
  /** Accepted JWS algorithms. */
  algorithms: readonly string[];
  /** Whether the `typ` header must be `at+jwt` (RFC 9068 §4 step 1). */
  requireAtJwtTyp: boolean;
  /** The issuer's key for a header (see `RemoteJwks.key`). */
  key: (header: JwsHeader) => Promise<CryptoKey>;
}

/**
 * Verifies a JWT access token. Claims are checked before the signature so that a token for another issuer or
 * audience, or an expired one, is refused without a key lookup (which could cause a key set reload); nothing is
 * accepted before the signature has been verified too.
 *
 * @param token the compact JWS
 * @param expected issuer, audience, algorithms, clock, key lookup
 * @returns the verified token
 * @throws {CliAuthError} `invalid_token`; and whatever the key lookup throws when the key set cannot be had
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export async function verifyJwtAccessToken(token: string, expected: JwtAccessTokenExpectations): Promise<VerifiedToken> {
  const jws = decodeJws(token);
  checkJwsHeader(jws.header, expected.algorithms);
  if (expected.requireAtJwtTyp && !isAtJwt(jws.header.typ)) {
    throw invalidToken('The token is not a JWT access token (typ "at+jwt")');
  }
  const { subject, expiresAt } = checkAccessTokenClaims(jws.payload, expected, { issuer: true, expiry: true });
  const key = await expected.key(jws.header);
  if (!await verifyJwsSignature(jws, key)) throw invalidToken("The access token's signature is invalid");
  const claims = jws.payload;
  const result: VerifiedToken = { subject, type: "jwt", scopes: scopesOf(claims), claims, expiresAt };
  const clientId = clientIdOf(claims);
  if (clientId !== undefined) result.clientId = clientId;
  return result;
}

/** RFC 9068 §4: `typ` is `at+jwt` or `application/at+jwt`, compared without regard to case (RFC 7515 §4.1.9). */
function isAtJwt(typ: unknown): boolean {
  if (typeof typ !== "string") return false;
  const value = typ.toLowerCase();
  return value === "at+jwt" || value === "application/at+jwt";
}
