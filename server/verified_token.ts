/**
 * What a successful verification returns, whatever kind of token it was.
 *
 * @module
 */

/**
 * The kinds of token a verifier knows: a JWT access token (RFC 9068) checked against the issuer's keys, an opaque
 * token checked by introspection (RFC 7662), or a personal access token checked by a lookup of its hash.
 *
 * @example Usage
 * ```ts
 * import type { TokenType } from "@x/cli-auth/server";
 * const machinesOnly: TokenType[] = ["pat"];
 * ```
 */
export type TokenType = "jwt" | "opaque" | "pat";

/** Every {@link TokenType}, in a fixed order. */
export const TOKEN_TYPES: readonly TokenType[] = ["jwt", "opaque", "pat"];

/**
 * A verified token: who it speaks for, what it may do, and until when.
 *
 * @example Usage
 * ```ts
 * import type { VerifiedToken } from "@x/cli-auth/server";
 * function canWrite(token: VerifiedToken): boolean {
 *   return token.scopes.includes("api:write");
 * }
 * ```
 */
export interface VerifiedToken {
  /** The user (or, for client-credentials tokens, the client) the token speaks for: the `sub` claim. */
  subject: string;
  /** How the token was verified. */
  type: TokenType;
  /** The granted scopes (`scope` / `scp` claims, the introspection `scope`, or the stored scopes of a PAT). */
  scopes: string[];
  /** All claims: the JWT payload, the introspection response, or what the PAT lookup returned. */
  claims: Record<string, unknown>;
  /** When the token expires (epoch ms); absent for a personal access token stored without expiry. */
  expiresAt?: number;
  /** The OAuth client the token was issued to (`client_id`, else `azp`), when known. */
  clientId?: string;
  /**
   * The key the token is bound to, present only when the request proved possession of it: a DPoP proof signed with
   * the key whose JWK SHA-256 thumbprint is the token's `cnf.jkt` (RFC 9449 §6) passed every check.
   */
  confirmation?: { jkt: string };
}

/**
 * The scopes in a set of claims: the space-separated `scope` string (RFC 9068 §2.2.3, RFC 7662 §2.2), else an `scp`
 * array or string (as some providers send).
 *
 * @param claims JWT or introspection claims
 * @returns the scopes, without duplicates or empty entries
 */
export function scopesOf(claims: Record<string, unknown>): string[] {
  const { scope, scp } = claims;
  let scopes: string[] = [];
  if (typeof scope === "string") scopes = scope.split(" ");
  else if (Array.isArray(scp)) scopes = scp.filter((value): value is string => typeof value === "string");
  else if (typeof scp === "string") scopes = scp.split(" ");
  return [...new Set(scopes.filter(Boolean))];
}

/**
 * The client a set of claims names: `client_id` (RFC 9068 §2.2, RFC 7662 §2.2), else `azp`.
 *
 * @param claims JWT or introspection claims
 * @returns the client ID, when there is one
 */
export function clientIdOf(claims: Record<string, unknown>): string | undefined {
  const value = typeof claims.client_id === "string" ? claims.client_id : claims.azp;
  return typeof value === "string" && value !== "" ? value : undefined;
}
