/**
 * Reading the access token from an `Authorization` request header (RFC 6750 §2.1, RFC 9449 §7.1).
 *
 * @module
 */

import { invalidToken } from "./_refusals.ts";

/**
 * The authentication schemes a token can arrive with: `Bearer` (RFC 6750), or `DPoP` with a proof (RFC 9449 §7.1).
 *
 * @example Usage
 * ```ts ignore
 * import { type AuthorizationScheme, parseAuthorizationHeader } from "./_authorization_header.ts";
 * const scheme: AuthorizationScheme = parseAuthorizationHeader("Bearer abc").scheme;
 * console.assert(scheme === "Bearer");
 * ```
 */
export type AuthorizationScheme = "Bearer" | "DPoP";

/**
 * What the `Authorization` header carried.
 *
 * @example Usage
 * ```ts ignore
 * import type { PresentedCredentials } from "./_authorization_header.ts";
 * const credentials: PresentedCredentials = { scheme: "Bearer", token: "eyJhbGciOi..." };
 * ```
 */
export interface PresentedCredentials {
  /** The scheme, in its canonical spelling (schemes are case-insensitive on the wire). */
  scheme: AuthorizationScheme;
  /** The token exactly as sent. */
  token: string;
}

/** Longest token accepted: generous for JWTs with many claims, small enough to refuse junk early. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** RFC 9110 §11.4 `credentials = auth-scheme [ 1*SP token68 ]`; the scheme is an RFC 9110 token. */
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s;
/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Parses an `Authorization` header value into scheme and token. Schemes are case-insensitive; the token must be an
 * RFC 6750 `b64token` of at most 16 KiB.
 *
 * @param header the header value (`request.headers.get("authorization")`)
 * @returns scheme and token
 * @throws {CliAuthError} `invalid_token`: no header or another scheme (`error` unset: the challenge then carries no
 *   error code, as RFC 6750 §3.1 asks), or a malformed header or token (`error` `"invalid_token"`)
 *
 * @example Usage
 * ```ts ignore
 * import { parseAuthorizationHeader } from "./_authorization_header.ts";
 * const { scheme, token } = parseAuthorizationHeader("bearer eyJhbGciOiJFUzI1NiJ9.e30.sig");
 * console.assert(scheme === "Bearer" && token === "eyJhbGciOiJFUzI1NiJ9.e30.sig");
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function parseAuthorizationHeader(header: string | null | undefined): PresentedCredentials {
  const value = header?.trim() ?? "";
  if (value === "") throw invalidToken("The request carries no access token", { missing: true });
  const match = CREDENTIALS.exec(value);
  if (!match) throw invalidToken("The Authorization header is malformed");
  const scheme = match[1]!.toLowerCase();
  if (scheme !== "bearer" && scheme !== "dpop") {
    throw invalidToken("The Authorization header does not use the Bearer scheme", { missing: true });
  }
  const token = match[2]?.trim() ?? "";
  if (token === "") throw invalidToken("The Authorization header carries no token");
  if (token.length > MAX_TOKEN_LENGTH) throw invalidToken("The access token is too long");
  if (!B64TOKEN.test(token)) throw invalidToken("The Authorization header is malformed");
  return { scheme: scheme === "bearer" ? "Bearer" : "DPoP", token };
}

/**
 * Reads the credentials of a request; see {@link parseAuthorizationHeader}.
 *
 * @param request the incoming request
 * @returns scheme and token
 * @throws {CliAuthError} `invalid_token`
 */
export function readCredentials(request: Request): PresentedCredentials {
  return parseAuthorizationHeader(request.headers.get("authorization"));
}
