/**
 * `logout()`: revokes the refresh token and the access token at the server (RFC 7009) when it has a revocation
 * endpoint, then clears the local session, even if revocation failed.
 *
 * @module
 */

import { isCliAuthError } from "../common/errors.ts";
import type { Issuer } from "../issuer.ts";
import type { Session } from "./session.ts";
import type { SessionStore } from "./session_store.ts";

/**
 * What `logout()` reports.
 *
 * @example Usage
 * ```ts
 * import type { LogoutResult } from "@x/cli-auth";
 * const line = (r: LogoutResult) => (r.revoked ? "Logged out" : "Logged out here; the server was not told");
 * ```
 */
export interface LogoutResult {
  /** Whether the server confirmed the revocation (RFC 7009). */
  revoked: boolean;
  /** Whether there was a session to clear. */
  hadSession: boolean;
}

/**
 * Signs out (see `CliAuth.logout`).
 *
 * @param sessions the profile's session store
 * @param issuer the authorization server (loaded only to revoke)
 * @param options `revoke: false` only clears the local session
 * @returns whether the server confirmed the revocation, and whether there was a session
 * @throws {CliAuthError} `storage_unavailable` when the local session cannot be removed
 * @see https://www.rfc-editor.org/rfc/rfc7009
 */
export async function logout(
  sessions: SessionStore,
  issuer: () => Promise<Issuer>,
  options: { revoke?: boolean; signal?: AbortSignal } = {},
): Promise<LogoutResult> {
  let session: Session | null = null;
  try {
    session = await sessions.read();
  } catch (error) {
    if (!isCliAuthError(error, "storage_corrupt")) throw error;
  }
  let revoked = false;
  // A token the user gave (loginWithToken) was not issued to this client: it is forgotten, never revoked.
  if (session && session.flow !== "token" && (options.revoke ?? true)) {
    try {
      const context = await (await issuer()).context(options.signal, { session });
      if (context.as.revocation_endpoint) {
        const { revokeToken } = await import("../protocol/revoke.ts");
        const { refreshToken, accessToken } = session.tokens;
        if (refreshToken) {
          await revokeToken(context, refreshToken, { tokenTypeHint: "refresh_token", signal: options.signal });
        }
        await revokeToken(context, accessToken, { tokenTypeHint: "access_token", signal: options.signal })
          .catch((error) => {
            if (!refreshToken) throw error;
          });
        revoked = true;
      }
    } catch {
      revoked = false;
    }
  }
  await sessions.clear();
  return { revoked, hadSession: session !== null };
}
