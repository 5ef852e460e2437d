/**
 * This profile's session in the credential store: read (with the belongs-here check), write, clear. A stored session
 * that another issuer or client made, or one signed in for other resources (the configuration changed since that
 * login), reads as none.
 *
 * @module
 */

import { CliAuthError } from "../common/errors.ts";
import { type Config, madeWith, sameResources } from "../options.ts";
import { parseSession, serializeSession, type Session } from "./session.ts";

/**
 * The profile's session, as `CliAuth`'s parts read and write it.
 */
export interface SessionStore {
  /** The profile's session, or `null` (none, or one that belongs to another issuer or client). */
  read(): Promise<Session | null>;
  /** Stores the session under the profile. */
  write(session: Session): Promise<void>;
  /** Removes the profile's session. */
  clear(): Promise<void>;
}

/**
 * The session store of one `CliAuth` instance.
 *
 * @param config the instance's configuration (store, profile, issuer, client)
 * @returns the session store
 */
export function createSessionStore(config: Config): SessionStore {
  const { profile } = config;
  const belongsHere = (session: Session): boolean => {
    if (!madeWith(config, session)) return false;
    // A session signed in for resources is for those resources only. One stored before sessions named their
    // resources is taken only where an issuer or client ID says whose it is: a configuration with neither (sign-in
    // from a resource URL) cannot tell one API's session from another's.
    if (session.resources === undefined) return config.resources.length === 0 || Boolean(config.issuer || config.clientId);
    return sameResources(session.resources, config.resources);
  };
  return {
    async read() {
      const stored = await (await config.store()).get(profile);
      if (stored === null) return null;
      const session = parseSession(stored, profile);
      return belongsHere(session) ? session : null;
    },
    async write(session) {
      await (await config.store()).set(profile, serializeSession(session));
    },
    async clear() {
      await (await config.store()).delete(profile);
    },
  };
}

/**
 * A session just signed in for this configuration: its profile, and its resources when it names any (a configuration
 * naming other resources then does not read it, see `createSessionStore`). The one place that says what a new session
 * records besides what the login obtained.
 *
 * @param config the instance's configuration (profile, resources, clock)
 * @param obtained the issuer and client it was signed in with, its tokens and the flow
 * @returns the session, created and updated now
 */
export function newSession(config: Config, obtained: Pick<Session, "issuer" | "clientId" | "tokens" | "flow">): Session {
  const now = config.now();
  const session: Session = { version: 1, profile: config.profile, ...obtained, createdAt: now, updatedAt: now };
  if (config.resources.length > 0) session.resources = [...config.resources];
  return session;
}

/**
 * The `not_logged_in` error of a profile, with the login hint.
 *
 * @param config the instance's configuration
 * @returns the error to throw
 */
export function notLoggedIn(config: Config): CliAuthError {
  return new CliAuthError("not_logged_in", `Not logged in (profile "${config.profile}")`, { hint: config.loginHint });
}
