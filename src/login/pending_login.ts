/**
 * A pending login: a sign-in begun by one process (`beginLogin`) and finished by any later one (`resumeLogin`). Its
 * two halves: the {@link PendingLogin} handed out (JSON, no secret: what the user needs to approve), and the
 * {@link StoredPendingLogin} kept in the credential store under `pending-login:<profile>` (`names.ts`): the device
 * code or the PKCE verifier and state, the DPoP key, the client, the last poll and the interval. One per profile; a
 * new one replaces the old. An expired one reads as none and is removed on the way (lazily: no clock runs anywhere).
 *
 * @module
 */

import { CliAuthError } from "../common/errors.ts";
import { pendingLoginKey } from "../names.ts";
import { type Config, madeWith } from "../options.ts";
import type { StoredDpopKey } from "../protocol/dpop.ts";
import type { LoginResult } from "./login.ts";

/**
 * A sign-in begun and not yet finished, as `beginLogin()` returns it and `resumeLogin()` reports it:
 * JSON-serializable, and without any secret (the device code and PKCE verifier stay in the store). Show it to the
 * user, or print it for the agent or script that drives the login.
 *
 * @example Usage
 * ```ts
 * import type { PendingLogin } from "@x/cli-auth";
 * const tell = (p: PendingLogin) =>
 *   p.flow === "device" ? `Open ${p.verificationUri} and enter ${p.userCode}` : `Open ${p.authorizationUrl}`;
 * ```
 */
export interface PendingLogin {
  /** `"device"` (approve a code on any device) or `"manual"` (open a URL, paste back where it redirected). */
  flow: "device" | "manual";
  /** When the pending login can no longer be finished, epoch ms. */
  expiresAt: number;
  /** Device: the code the user types in. */
  userCode?: string;
  /** Device: where the user types it. */
  verificationUri?: string;
  /** Device: the same page with the code filled in, when the server offers it. */
  verificationUriComplete?: string;
  /** Device: the seconds to wait between two `resumeLogin()` calls (raised when the server says `slow_down`). */
  interval?: number;
  /** Manual: the URL to open in a browser. */
  authorizationUrl?: string;
}

/**
 * Options of {@link CliAuth.beginLogin}.
 *
 * @example Usage
 * ```ts
 * import type { BeginLoginOptions } from "@x/cli-auth";
 * const options: BeginLoginOptions = { flow: "manual", scopes: ["openid", "offline_access"] };
 * ```
 */
export interface BeginLoginOptions {
  /** `"device"` (default) or `"manual"`. */
  flow?: "device" | "manual";
  /** Scopes for this login (default: the instance's). */
  scopes?: readonly string[];
  /** Further parameters of the device authorization or authorization request. */
  extraParams?: Record<string, string>;
  /** Manual: `prompt` for the authorization request. */
  prompt?: string;
  /** Manual: `login_hint` for the authorization request. */
  loginHint?: string;
  /** Manual: the redirect URI (default: a loopback URI on a random port where nothing listens). */
  redirectUri?: string;
  /** Cancels the requests (`login_cancelled`); nothing is stored then. */
  signal?: AbortSignal;
}

/**
 * Options of {@link CliAuth.resumeLogin}.
 *
 * @example Usage
 * ```ts
 * import type { ResumeLoginOptions } from "@x/cli-auth";
 * const options: ResumeLoginOptions = { wait: true, timeoutMs: 120_000 };
 * ```
 */
export interface ResumeLoginOptions {
  /** Device: poll until the sign-in is approved, denied or expired (default: one step, at most one request). */
  wait?: boolean;
  /** Manual: what the user pasted — the URL the browser was redirected to, its query, or the bare code. */
  callbackUrl?: string;
  /** With `wait`: how long to wait at most, in ms (default 300 000); then `login_timeout`, the login still pending. */
  timeoutMs?: number;
  /** Cancels (`login_cancelled`); the login stays pending. */
  signal?: AbortSignal;
}

/**
 * What `resumeLogin()` returns: still pending (with what to show the user), or done (the session is stored).
 *
 * @example Usage
 * ```ts
 * import type { ResumeLoginResult } from "@x/cli-auth";
 * const line = (r: ResumeLoginResult) => (r.done ? `Signed in as ${r.result.user?.sub}` : `Enter ${r.pending.userCode}`);
 * ```
 */
export type ResumeLoginResult = { done: false; pending: PendingLogin } | { done: true; result: LoginResult };

/** The secret half, as stored (JSON) under `pending-login:<profile>`. */
export interface StoredPendingLogin {
  /** The format version; always `1` for now. */
  version: 1;
  /** The flow. */
  flow: "device" | "manual";
  /** The issuer identifier of the authorization server it was begun at. */
  issuer: string;
  /** The client it was begun with (configured or registered on the fly). */
  clientId: string;
  /** The RFC 8707 resources it was begun for, normalised (`normalResources` in `options.ts`); absent in entries of older versions. */
  resources?: string[];
  /** When it was begun, epoch ms. */
  createdAt: number;
  /** When it expires, epoch ms. */
  expiresAt: number;
  /** The DPoP key the tokens will be bound to (`dpop: true`). */
  dpopKey?: StoredDpopKey;
  /** Device: the device code (secret). */
  deviceCode?: string;
  /** Device: what the user is shown. */
  userCode?: string;
  /** Device: where the user goes. */
  verificationUri?: string;
  /** Device: the page with the code filled in. */
  verificationUriComplete?: string;
  /** Device: seconds between polls, raised by `slow_down`. */
  interval?: number;
  /** Device: when the token endpoint was last asked (or the code was issued), epoch ms. */
  lastPollAt?: number;
  /** Manual: the authorization URL. */
  authorizationUrl?: string;
  /** Manual: its redirect URI. */
  redirectUri?: string;
  /** Manual: its state. */
  state?: string;
  /** Manual: the PKCE verifier (secret). */
  codeVerifier?: string;
}

/**
 * The profile's pending login in the credential store. Whoever writes or clears it holds its lock
 * ({@link withPendingLoginLock}); a change that follows a network call is made only to the same pending login
 * (`update`, `clearIf`), never to one begun or cancelled meanwhile.
 */
export interface PendingLoginStore {
  /** The pending login, or `null`: none, one of another issuer or client, or one that expired (then removed). */
  read(): Promise<StoredPendingLogin | null>;
  /** Stores it, replacing any other. */
  write(pending: StoredPendingLogin): Promise<void>;
  /** Removes it; whether there was one. */
  clear(): Promise<boolean>;
  /** Stores `change(stored)` if the store still holds the same login as `expected`; what was stored, or `null`. */
  update(
    expected: StoredPendingLogin,
    change: (stored: StoredPendingLogin) => StoredPendingLogin,
  ): Promise<StoredPendingLogin | null>;
  /** Removes it if the store still holds the same login as `expected`; whether it did. */
  clearIf(expected: StoredPendingLogin): Promise<boolean>;
}

/**
 * Runs `fn` holding the profile's pending-login lock, the one `beginLogin`, `resumeLogin` and `cancelLogin` share
 * around every read-and-write of the entry (never around a token request: a cancel need not wait for one).
 *
 * @param config the instance's configuration (platform, service, profile, lock options)
 * @param fn what to run
 * @returns what `fn` returns
 */
export async function withPendingLoginLock<T>(config: Config, fn: () => Promise<T>): Promise<T> {
  const platform = await config.platform();
  return await platform.withLock(`${config.service}.${config.profile}.pending-login`, fn, config.lock);
}

/** Whether two stored pending logins are the same sign-in: the same server, client, and device code or state. */
function sameLogin(a: StoredPendingLogin, b: StoredPendingLogin): boolean {
  return a.flow === b.flow && a.issuer === b.issuer && a.clientId === b.clientId &&
    (a.flow === "device" ? a.deviceCode === b.deviceCode : a.state === b.state);
}

/**
 * The pending-login store of one instance's profile.
 *
 * @param config the instance's configuration (store, profile, issuer, client, clock)
 * @returns the store; `readAny()` also returns an expired one, as it is (to tell the user it expired)
 */
export function pendingLoginStore(config: Config): PendingLoginStore & { readAny(): Promise<StoredPendingLogin | null> } {
  const key = pendingLoginKey(config.profile);
  const store = () => config.store();
  const readSame = async (expected: StoredPendingLogin): Promise<StoredPendingLogin | null> => {
    const value = await (await store()).get(key);
    if (value === null) return null;
    try {
      const stored = parsePendingLogin(value, config.profile);
      return sameLogin(stored, expected) ? stored : null;
    } catch {
      return null; // not ours to touch
    }
  };
  const readAny = async (): Promise<StoredPendingLogin | null> => {
    const value = await (await store()).get(key);
    if (value === null) return null;
    const pending = parsePendingLogin(value, config.profile);
    return madeWith(config, pending) ? pending : null;
  };
  return {
    readAny,
    async read() {
      const pending = await readAny();
      if (!pending || pending.expiresAt > config.now()) return pending;
      await (await store()).delete(key);
      return null;
    },
    async write(pending) {
      await (await store()).set(key, JSON.stringify(pending));
    },
    async clear() {
      const s = await store();
      const had = (await s.get(key)) !== null;
      if (had) await s.delete(key);
      return had;
    },
    async update(expected, change) {
      const stored = await readSame(expected);
      if (!stored) return null;
      const next = change(stored);
      await (await store()).set(key, JSON.stringify(next));
      return next;
    },
    async clearIf(expected) {
      if (!(await readSame(expected))) return false;
      await (await store()).delete(key);
      return true;
    },
  };
}

/**
 * The part of a stored pending login that may be shown: no device code, verifier or key.
 *
 * @param pending the stored pending login
 * @returns the pending login to hand out
 */
export function publicPendingLogin(pending: StoredPendingLogin): PendingLogin {
  const view: PendingLogin = { flow: pending.flow, expiresAt: pending.expiresAt };
  if (pending.flow === "device") {
    view.userCode = pending.userCode;
    view.verificationUri = pending.verificationUri;
    if (pending.verificationUriComplete) view.verificationUriComplete = pending.verificationUriComplete;
    view.interval = pending.interval;
  } else {
    view.authorizationUrl = pending.authorizationUrl;
  }
  return view;
}

function parsePendingLogin(text: string, profile: string): StoredPendingLogin {
  let value: Partial<StoredPendingLogin> | null = null;
  try {
    value = JSON.parse(text);
  } catch {
    // reported below
  }
  const shaped = value !== null && typeof value === "object" && value.version === 1 &&
    (value.flow === "device" ? typeof value.deviceCode === "string" && typeof value.interval === "number"
      : value.flow === "manual" && typeof value.codeVerifier === "string" && typeof value.state === "string") &&
    typeof value.issuer === "string" && typeof value.clientId === "string" && typeof value.expiresAt === "number";
  if (!shaped) {
    throw new CliAuthError("storage_corrupt", `Cannot read the pending login of profile "${profile}"`, {
      hint: "Begin the login again to replace it",
    });
  }
  return value as StoredPendingLogin;
}
