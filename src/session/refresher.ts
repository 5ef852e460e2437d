/**
 * Fresh access tokens for one `CliAuth` instance: the stored session when its token is valid beyond the skew (one
 * storage read, no network, no protocol code loaded), otherwise a refresh that is single-flight within the process
 * (one pending promise, as jose's `pendingFetch`) and serialised across processes by the platform's lock. Under the
 * lock the store is read again (another process may have refreshed already), and a refused refresh token clears the
 * profile only if the store still holds that token (compare-and-clear): a newer session stored meanwhile is used.
 *
 * @module
 */

import { CliAuthError, isCliAuthError } from "../common/errors.ts";
import type { Issuer } from "../issuer.ts";
import type { Config } from "../options.ts";
import type { Session } from "./session.ts";
import { notLoggedIn, type SessionStore } from "./session_store.ts";
import { DEFAULT_REFRESH_SKEW_SECONDS, isFresh } from "./token_freshness.ts";

/**
 * Options of {@link CliAuth.getAccessToken}.
 *
 * @example Usage
 * ```ts
 * import type { GetAccessTokenOptions } from "@x/cli-auth";
 * const options: GetAccessTokenOptions = { forceRefresh: true };
 * ```
 */
export interface GetAccessTokenOptions {
  /** Refresh even if the stored token is still fresh (e.g. after the API answered 401). */
  forceRefresh?: boolean;
  /** Cancels a refresh. */
  signal?: AbortSignal;
}

/** Hands out sessions with a valid access token. */
export interface Refresher {
  /** The session with a valid access token: one storage read when fresh, else refreshed. */
  validSession(options?: GetAccessTokenOptions): Promise<Session>;
  /**
   * Refreshes `seen` (the session as the caller read it) once for all concurrent callers, under the cross-process
   * lock, and returns the session to use.
   */
  refresh(seen: Session, options?: GetAccessTokenOptions): Promise<Session>;
  /**
   * The API refused the access token `rejected`: a new one, from a forced refresh, unless another caller replaced
   * `rejected` already. `known` is the session `rejected` came from, when the caller has it (saves a storage read).
   * The one refresh-and-retry decision of `auth.fetch` and `whoami()`.
   */
  refreshRejected(rejected: string, options?: { signal?: AbortSignal; known?: Session }): Promise<Session>;
}

/**
 * The refresher of one instance.
 *
 * @param config the instance's configuration (profile, skew, lock, clock, platform)
 * @param sessions the profile's session store
 * @param issuer the authorization server, loaded only when a refresh is needed
 * @returns the refresher
 */
export function createRefresher(config: Config, sessions: SessionStore, issuer: () => Promise<Issuer>): Refresher {
  const skew = config.refreshSkewSeconds ?? DEFAULT_REFRESH_SKEW_SECONDS;
  let refreshing: Promise<Session> | undefined;

  const refresh = (seen: Session, options: GetAccessTokenOptions = {}): Promise<Session> => {
    // A token the user gave (loginWithToken) cannot be renewed, and is kept: the user replaces it.
    if (seen.flow === "token") return Promise.reject(givenTokenRefused(config));
    if (!refreshing) {
      const pending = refreshLocked(seen, options);
      refreshing = pending;
      const clear = () => {
        if (refreshing === pending) refreshing = undefined;
      };
      pending.then(clear, clear);
    }
    return refreshing;
  };

  const refreshLocked = async (seen: Session, options: GetAccessTokenOptions): Promise<Session> => {
    const platform = await config.platform();
    return await platform.withLock(`${config.service}.${config.profile}.refresh`, async () => {
      let current = await sessions.read();
      // A second round only when the refresh token was refused because a newer session had been stored meanwhile
      // (by a process whose lock did not exclude this one): then that session is used, or refreshed in turn.
      for (let round = 1;; round++) {
        if (!current) throw notLoggedIn(config);
        // Another process (or instance) refreshed while we waited for the lock: its token is as new as any we could
        // get, so use it while it is still valid at all, rather than spend the rotated refresh token again.
        const someoneElseRefreshed = current.tokens.accessToken !== seen.tokens.accessToken;
        if (someoneElseRefreshed && isFresh(current.tokens, config.now(), 0)) return current;
        if (!options.forceRefresh && isFresh(current.tokens, config.now(), skew)) return current;
        if (!current.tokens.refreshToken) {
          await sessions.clear();
          throw new CliAuthError("session_expired", "The login has expired and cannot be renewed", {
            hint: config.loginHint,
          });
        }
        const spending: Session = current;
        const server = await issuer();
        const context = await server.context(options.signal, { session: spending });
        const [{ refreshTokens }, { withRetry }] = await Promise.all([
          import("../protocol/refresh.ts"),
          import("../protocol/retry.ts"),
        ]);
        let refreshed;
        try {
          refreshed = await withRetry(
            () => refreshTokens(context, spending.tokens, { signal: options.signal, now: config.now }),
            { signal: options.signal },
          );
        } catch (error) {
          const unknownClient = isCliAuthError(error, "invalid_client") && !config.clientId;
          // The server forgot the client registered on the fly: the next login registers a new one.
          if (unknownClient) await server.forgetClient(context.as.issuer);
          if (isCliAuthError(error, "invalid_grant") || unknownClient) {
            // Clear only what was refused: the store is read again, and the session is removed only if it still
            // holds the refresh token the server refused. A newer one, stored meanwhile, is used instead.
            const stored = await sessions.read();
            const refused = spending.tokens.refreshToken;
            if (stored && stored.tokens.refreshToken !== refused && round === 1) {
              current = stored;
              continue;
            }
            if (stored && stored.tokens.refreshToken === refused) await sessions.clear();
            throw new CliAuthError("session_expired", "The login has expired or was revoked", {
              hint: config.loginHint,
              cause: error,
            });
          }
          // Network trouble or a server error: the session stays for the next try.
          throw error;
        }
        const next: Session = { ...spending, tokens: refreshed.tokens, updatedAt: config.now() };
        await sessions.write(next);
        return next;
      }
    }, config.lock);
  };

  return {
    refresh,
    async validSession(options = {}) {
      const session = await sessions.read();
      if (!session) throw notLoggedIn(config);
      if (session.flow === "token") return options.forceRefresh ? Promise.reject(givenTokenRefused(config)) : session;
      if (!options.forceRefresh && isFresh(session.tokens, config.now(), skew)) return session;
      return await refresh(session, options);
    },
    async refreshRejected(rejected, { signal, known } = {}) {
      // Refresh unless another caller already replaced `rejected`: the refresh compares the stored token with it.
      let seen = known?.tokens.accessToken === rejected ? known : undefined;
      if (!seen) {
        const session = await sessions.read();
        if (!session) throw notLoggedIn(config);
        seen = session.tokens.accessToken === rejected
          ? session
          : { ...session, tokens: { ...session.tokens, accessToken: rejected } };
      }
      return await refresh(seen, { forceRefresh: true, signal });
    },
  };
}

/** A token given with `loginWithToken()` was refused (or a new one asked for): it cannot be renewed. */
function givenTokenRefused(config: Config): CliAuthError {
  return new CliAuthError("invalid_token", "The stored token was refused, and a token given by hand cannot be renewed", {
    hint: `Give a new token, or ${config.loginHint.replace(/^Run/, "run")}`,
  });
}
