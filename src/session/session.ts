/**
 * The stored session: what is written to the keychain or file for one profile, and how it is read back.
 *
 * @module
 */

import { CliAuthError } from "../common/errors.ts";
import type { TokenSet } from "../protocol/token_set.ts";

/**
 * Who signed in: the `sub` plus the profile claims the server shared (email, name, …).
 *
 * @example Usage
 * ```ts
 * import type { User } from "@x/cli-auth";
 * const label = (user: User) => String(user.email ?? user.name ?? user.sub);
 * ```
 */
export interface User {
  /** The subject: the server's stable identifier of the user. */
  sub: string;
  /** The `email` claim, when the server shared it. */
  email?: string;
  /** The `name` claim (display name), when the server shared it. */
  name?: string;
  /** Any other profile claim the server shared (`preferred_username`, `picture`, …). */
  [claim: string]: unknown;
}

/**
 * One profile's session as stored. The value in the store is this object as JSON.
 *
 * @example Usage
 * ```ts
 * import type { Session } from "@x/cli-auth";
 * const expired = (s: Session) => s.tokens.expiresAt !== undefined && s.tokens.expiresAt < Date.now();
 * ```
 */
export interface Session {
  /** The format version of the stored session; always `1` for now. */
  version: 1;
  /** The profile the session belongs to (also the keychain account). */
  profile: string;
  /** The issuer identifier of the authorization server that issued the tokens. */
  issuer: string;
  /** The client ID the tokens were issued to (configured or registered on the fly). */
  clientId: string;
  /** The session's tokens. */
  tokens: TokenSet;
  /** Identity at login time (for `status()`); `whoami()` always asks the server. */
  user?: User;
  /** The flow the login used; `"token"`: a token the user gave (`loginWithToken()`), never refreshed or revoked. */
  flow?: "browser" | "device" | "manual" | "token";
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the last write (login or refresh). */
  updatedAt: number;
  /**
   * The RFC 8707 resources the session was signed in for, when the configuration named any: a configuration naming
   * other resources does not use it.
   */
  resources?: string[];
  /** RFC 9449 key pair (JWK) when the session is DPoP-bound. */
  dpopKey?: { privateJwk: JsonWebKey; publicJwk: JsonWebKey };
}

const PROTOCOL_CLAIMS = new Set([
  "iss", "aud", "exp", "iat", "nbf", "jti", "nonce", "at_hash", "c_hash", "s_hash", "auth_time", "azp", "sid", "acr", "amr",
]);

/**
 * The user's claims from an ID token or userinfo, without the protocol claims (`iss`, `aud`, `exp`, `nonce`, …).
 *
 * @param claims ID token claims or a userinfo response
 * @returns the user
 *
 * @example Usage
 * ```ts
 * import { userFromClaims } from "@x/cli-auth/protocol";
 * const user = userFromClaims({ sub: "alice", email: "a@example.com", iss: "https://auth.example.com" });
 * // { sub: "alice", email: "a@example.com" }
 * ```
 */
export function userFromClaims(claims: { sub: string } & Record<string, unknown>): User {
  const user: User = { sub: claims.sub };
  for (const [key, value] of Object.entries(claims)) {
    if (!PROTOCOL_CLAIMS.has(key) && value !== undefined) user[key] = value;
  }
  return user;
}

/**
 * Serializes a session for the store.
 *
 * @param session the session
 * @returns JSON
 *
 * @example Usage
 * ```ts
 * import { serializeSession, type Session } from "@x/cli-auth/protocol";
 * declare const session: Session;
 * const json = serializeSession(session);
 * ```
 */
export function serializeSession(session: Session): string {
  return JSON.stringify(session);
}

/**
 * Parses a stored session, checking its shape.
 *
 * @param text the stored value
 * @param profile the profile, for the message
 * @returns the session
 * @throws {CliAuthError} `storage_corrupt` when it is not a session
 *
 * @example Usage
 * ```ts
 * import { parseSession } from "@x/cli-auth/protocol";
 * declare const stored: string;
 * const session = parseSession(stored, "default");
 * ```
 */
export function parseSession(text: string, profile: string): Session {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt(profile, "it is not valid JSON");
  }
  if (typeof value !== "object" || value === null) throw corrupt(profile, "it is not an object");
  const session = value as Partial<Session>;
  if (session.version !== 1) throw corrupt(profile, "its version is unknown");
  const tokens = session.tokens;
  if (typeof tokens !== "object" || tokens === null || typeof tokens.accessToken !== "string") {
    throw corrupt(profile, "it holds no access token");
  }
  if (typeof session.issuer !== "string" || typeof session.clientId !== "string") {
    throw corrupt(profile, "it names no issuer or client");
  }
  return session as Session;
}

function corrupt(profile: string, reason: string): CliAuthError {
  return new CliAuthError("storage_corrupt", `Cannot read the stored session for profile "${profile}": ${reason}`, {
    hint: "Log in again to replace it",
  });
}
