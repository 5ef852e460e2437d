/**
 * The session as `auth.fetch` (and `whoami()` on an identity endpoint) sees it: the token to send, the one refresh
 * when the API refused it (the refresher's `refreshRejected`, shared with `whoami()`'s userinfo path), and the DPoP
 * handle of the session's key.
 *
 * @module
 */

import type { Issuer } from "../issuer.ts";
import type { Refresher } from "../session/refresher.ts";
import type { Session } from "../session/session.ts";
import type { AuthenticatedFetchSession } from "./authenticated_fetch.ts";

/**
 * The stored session for one API request: one storage read per request (the token and the DPoP key come from the
 * same session).
 *
 * @param refresher hands out valid sessions and refreshes a refused token
 * @param issuer the authorization server (loaded only for a DPoP-bound session)
 * @returns the session `authenticatedFetch` uses
 */
export function apiSession(refresher: Refresher, issuer: () => Promise<Issuer>): AuthenticatedFetchSession {
  let valid: Promise<Session> | undefined;
  const current = () => valid ??= refresher.validSession();
  return {
    token: async () => (await current()).tokens.accessToken,
    refreshed: async (rejected) => (await refresher.refreshRejected(rejected)).tokens.accessToken,
    dpop: async () => {
      const { clientId, dpopKey } = await current();
      return dpopKey ? await (await issuer()).dpopHandle(clientId, dpopKey) : undefined;
    },
  };
}
