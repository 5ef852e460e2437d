/**
 * `status()`: what `my-cli auth status` prints, from the store alone (no network).
 *
 * @module
 */

import type { StorageKind } from "../contracts.ts";
import type { Config } from "../options.ts";
import type { User } from "./session.ts";
import type { SessionStore } from "./session_store.ts";

/**
 * What `status()` reports, without any network request.
 *
 * @example Usage
 * ```ts
 * import type { AuthStatus } from "@x/cli-auth";
 * const line = (s: AuthStatus) => (s.loggedIn ? `Logged in (${s.storage})` : "Not logged in");
 * ```
 */
export interface AuthStatus {
  /** Whether a session is stored for the profile (its access token may have expired). */
  loggedIn: boolean;
  /** The profile asked about (the instance's `profile`, default `"default"`). */
  profile: string;
  /** Where the session lives: `"keychain"`, `"file"`, `"memory"` or `"custom"` (a store you passed). */
  storage: StorageKind;
  /** When the access token expires, epoch ms. */
  expiresAt?: number;
  /** The scopes granted at the last login or refresh, when the server said. */
  scopes?: string[];
  /** Identity at login time. */
  user?: User;
  /** Whether a refresh token is stored (the session can outlive the access token). */
  refreshable?: boolean;
}

/**
 * The profile's status (see `CliAuth.status`).
 *
 * @param config the instance's configuration (store, profile)
 * @param sessions the profile's session store
 * @returns logged in or not, profile, storage kind, expiry, scopes
 */
export async function status(config: Config, sessions: SessionStore): Promise<AuthStatus> {
  const store = await config.store();
  const session = await sessions.read();
  const status: AuthStatus = { loggedIn: session !== null, profile: config.profile, storage: store.kind ?? "custom" };
  if (session) {
    if (session.tokens.expiresAt !== undefined) status.expiresAt = session.tokens.expiresAt;
    if (session.tokens.scope) status.scopes = session.tokens.scope;
    if (session.user) status.user = session.user;
    status.refreshable = Boolean(session.tokens.refreshToken);
  }
  return status;
}
