/**
 * `status()`: what `my-cli auth status` prints, from the store alone (no network): the session, and the pending
 * login when one was begun (`beginLogin()`) and has not expired.
 *
 * @module
 */

import { isCliAuthError } from "../common/errors.ts";
import type { StorageKind } from "../contracts.ts";
import type { PendingLogin } from "../login/pending_login.ts";
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
  /** A sign-in begun with `beginLogin()` and not yet finished nor expired: what the user needs to approve it. */
  pendingLogin?: Pick<PendingLogin, "flow" | "expiresAt" | "userCode" | "verificationUri">;
}

/**
 * The profile's status (see `CliAuth.status`).
 *
 * @param config the instance's configuration (store, profile)
 * @param sessions the profile's session store
 * @returns logged in or not, profile, storage kind, expiry, scopes, the pending login
 */
export async function status(config: Config, sessions: SessionStore): Promise<AuthStatus> {
  const store = await config.store();
  const { pendingLoginStore } = await import("../login/pending_login.ts");
  const session = await sessions.read();
  // A pending login that cannot be read is not worth failing the status for: the next beginLogin() replaces it.
  const pending = await pendingLoginStore(config).read().catch((error) => {
    if (isCliAuthError(error, "storage_corrupt")) return null;
    throw error;
  });
  const status: AuthStatus = { loggedIn: session !== null, profile: config.profile, storage: store.kind ?? "custom" };
  if (session) {
    if (session.tokens.expiresAt !== undefined) status.expiresAt = session.tokens.expiresAt;
    if (session.tokens.scope) status.scopes = session.tokens.scope;
    if (session.user) status.user = session.user;
    status.refreshable = Boolean(session.tokens.refreshToken);
  }
  if (pending) {
    const { flow, expiresAt, userCode, verificationUri } = pending;
    status.pendingLogin = flow === "device" ? { flow, expiresAt, userCode, verificationUri } : { flow, expiresAt };
  }
  return status;
}
