/**
 * `resumeLogin()` and `cancelLogin()`: finishing, in any process, a sign-in `beginLogin()` started.
 *
 * - Device flow: each step makes at most one token request, and none sooner than the interval after the last one
 *   (the time is kept in the store, so this holds across processes; the pending-login lock, shared with `beginLogin`
 *   and `cancelLogin`, makes reading it and storing the time of a poll one step, so two processes never claim the
 *   same poll; it is not held across the request). After the request, the entry is changed or removed only if it is
 *   still the same pending login: a cancel or a new `beginLogin()` meanwhile stands. `slow_down` raises the stored interval by 5 s (RFC 8628 §3.5). `{ wait: true }` repeats the
 *   step until the sign-in is approved, denied or expired, backing off on network trouble as `login()` does.
 * - Manual: `{ callbackUrl }` takes what the user pasted through the same checks as `login({ flow: "manual" })`
 *   (`completeManualAuthorization`).
 * - Done: the session is stored (as `login()` stores it) before the pending login is removed and the result
 *   returned. Denied or expired: the pending login is removed. Cancelled or timed out: it stays, to resume later.
 *
 * @module
 */

import { CliAuthError, isCliAuthError } from "../common/errors.ts";
import type { ProtocolContext } from "../protocol/protocol_context.ts";
import { completeLogin, type LoginParts, type LoginResult } from "./login.ts";
import { sameResources } from "../options.ts";
import {
  type PendingLogin,
  pendingLoginStore,
  publicPendingLogin,
  type ResumeLoginOptions,
  type ResumeLoginResult,
  type StoredPendingLogin,
  withPendingLoginLock,
} from "./pending_login.ts";

/** The longest wait between polls when backing off after network failures, in seconds. */
const MAX_BACKOFF_SECONDS = 60;

/** One step: done, or still pending with the time until the next poll may be made. */
type Step = { done: true; result: LoginResult } | { done: false; pending: PendingLogin; waitMs: number };

/**
 * Finishes, or advances, the profile's pending login (see `CliAuth.resumeLogin`).
 *
 * @param parts the configuration, authorization server and session store
 * @param options `wait`, `callbackUrl`, timeout and signal
 * @returns still pending, or done with the login's result
 */
export async function resumeLogin(parts: LoginParts, options: ResumeLoginOptions = {}): Promise<ResumeLoginResult> {
  const { abortReason, createLoginSignal, sleep } = await import("./login_signal.ts");
  const login = createLoginSignal({ timeoutMs: options.timeoutMs, signal: options.signal });
  const { signal } = login;
  try {
    if (options.callbackUrl !== undefined) {
      return await finishManual(parts, options.callbackUrl, signal);
    }
    let backoff = 0;
    for (;;) {
      let step: Step;
      try {
        step = await pollOnce(parts, Boolean(options.wait), signal);
        backoff = 0;
      } catch (error) {
        // RFC 8628 §3.5: while waiting, back off on connection trouble and keep trying until the code expires.
        if (!options.wait || signal.aborted || !isCliAuthError(error, "network_error", "timeout", "server_error")) throw error;
        backoff = Math.min(MAX_BACKOFF_SECONDS, Math.max(1, backoff * 2));
        await sleep(backoff * 1000, signal);
        continue;
      }
      if (step.done) return { done: true, result: step.result };
      if (!options.wait) return { done: false, pending: step.pending };
      await sleep(step.waitMs, signal);
    }
  } catch (error) {
    throw abortReason(error, signal);
  } finally {
    login.dispose();
  }
}

/**
 * Forgets the profile's pending login (see `CliAuth.cancelLogin`).
 *
 * @param parts the configuration
 * @returns whether there was one
 */
export async function cancelLogin(parts: Pick<LoginParts, "config">): Promise<{ cancelled: boolean }> {
  // Under the lock: a resume in flight then sees it gone and does not write it back.
  return { cancelled: await withPendingLoginLock(parts.config, () => pendingLoginStore(parts.config).clear()) };
}

/** The pending login as it may be used now: none, expired (then forgotten) or of another flow are errors. */
async function current(parts: LoginParts, flow?: "device" | "manual"): Promise<StoredPendingLogin> {
  const { config } = parts;
  const pendings = pendingLoginStore(config);
  const pending = await pendings.readAny();
  if (!pending) {
    throw new CliAuthError("no_pending_login", `No sign-in is pending for profile "${config.profile}"`, {
      hint: `${config.loginHint} to begin one`,
    });
  }
  if (pending.expiresAt <= config.now()) {
    await pendings.clear();
    throw expired(pending.flow, config.loginHint);
  }
  if (flow === "device" && pending.flow === "manual") {
    throw new CliAuthError("invalid_options", "The pending sign-in is a manual one: it is finished with the URL the browser was sent to", {
      hint: "Pass `callbackUrl` with the URL from the browser's address bar (or the code)",
    });
  }
  if (flow === "manual" && pending.flow === "device") {
    throw new CliAuthError("invalid_options", "The pending sign-in is a device one: it needs no callback URL", {
      hint: "Resume it without `callbackUrl` once the code is approved",
    });
  }
  return pending;
}

function expired(flow: "device" | "manual", loginHint: string, cause?: unknown): CliAuthError {
  return flow === "device"
    ? new CliAuthError("device_code_expired", "The device code expired before the sign-in was approved", {
      cause,
      hint: `${loginHint} again and enter the new code promptly`,
    })
    : new CliAuthError("login_timeout", "The pending sign-in expired before it was finished", { hint: `${loginHint} again` });
}

/**
 * The protocol context of a pending login: its client, and its DPoP key when it has one. Only for the authorization
 * server and resources it was begun for: a configuration that resolves elsewhere now (another `resource`, whose
 * metadata names another server) would send the device code or the code and verifier, and the client id, to a server
 * they do not belong to (a mix-up). Refused before any token request; the pending login stays for its own
 * configuration.
 */
async function contextOf(parts: LoginParts, pending: StoredPendingLogin, signal: AbortSignal): Promise<ProtocolContext> {
  const { config, issuer } = parts;
  if (!sameResources(config.resources, pending.resources ?? [])) {
    throw new CliAuthError("issuer_mismatch", "The pending sign-in was begun for other resources than this configuration names", {
      hint: `Resume it with the resource it was begun for, or ${lowerFirst(config.loginHint)} again`,
    });
  }
  const dpop = pending.dpopKey ? await issuer.dpopHandle(pending.clientId, pending.dpopKey) : undefined;
  const context = await issuer.context(signal, { clientId: pending.clientId, dpop });
  if (context.as.issuer !== pending.issuer) {
    throw new CliAuthError("issuer_mismatch", "The pending sign-in was begun at another authorization server than this configuration resolves to", {
      hint: `Resume it with the configuration (resource or issuer) it was begun with, or ${lowerFirst(config.loginHint)} again`,
    });
  }
  return context;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * One device step: no request before the interval is up; else one poll, whose outcome is stored. The lock is held to
 * read the pending login and store the time of the poll (so no other process polls within the interval), not across
 * the token request: a cancel or a new `beginLogin()` need not wait for it. What the answer changes (a raised interval,
 * the entry removed) is applied only if the store still holds the same pending login (compare-and-write).
 */
async function pollOnce(parts: LoginParts, wait: boolean, signal: AbortSignal): Promise<Step> {
  const { config } = parts;
  const pendings = pendingLoginStore(config);
  const locked = <T>(fn: () => Promise<T>) => withPendingLoginLock(config, fn);
  type Claim = { step: Step } | { step?: undefined; polling: StoredPendingLogin; context: ProtocolContext; interval: number };
  const claim = await locked(async (): Promise<Claim> => {
    const pending = await current(parts, wait ? "device" : undefined);
    const now = config.now();
    const interval = pending.interval ?? 5;
    const dueAt = (pending.lastPollAt ?? pending.createdAt) + interval * 1000;
    if (pending.flow === "manual" || now < dueAt) {
      return { step: { done: false, pending: publicPendingLogin(pending), waitMs: Math.max(0, dueAt - now) } };
    }
    const context = await contextOf(parts, pending, signal);
    // The time of this poll is stored before it is made: whatever happens to this process, the next waits.
    const polling: StoredPendingLogin = { ...pending, lastPollAt: now };
    await pendings.write(polling);
    return { polling, context, interval };
  });
  if (claim.step) return claim.step;
  const { polling, context, interval } = claim;
  const { pollDeviceToken } = await import("../protocol/device_flow.ts");
  let polled;
  try {
    polled = await pollDeviceToken(context, polling.deviceCode!, { signal, now: config.now });
  } catch (error) {
    if (isCliAuthError(error, "access_denied", "device_code_expired")) {
      await locked(() => pendings.clearIf(polling));
      throw isCliAuthError(error, "device_code_expired") ? expired("device", config.loginHint, error) : error;
    }
    throw error;
  }
  let pending = polling;
  if (polled.status === "slow_down") {
    const slowed = { ...polling, interval: interval + 5 };
    pending = (await locked(() => pendings.update(polling, (stored) => ({ ...stored, interval: (stored.interval ?? interval) + 5 })))) ??
      slowed;
  }
  if (polled.status !== "complete") {
    return { done: false, pending: publicPendingLogin(pending), waitMs: (pending.interval ?? interval) * 1000 };
  }
  const result = await completeLogin(parts, context, polled, "device", signal, polling.dpopKey);
  await locked(() => pendings.clearIf(polling));
  return { done: true, result };
}

/** Finishes a manual pending login from what the user pasted; removes it only if it is still the one finished. */
async function finishManual(parts: LoginParts, pasted: string, signal: AbortSignal): Promise<ResumeLoginResult> {
  const pendings = pendingLoginStore(parts.config);
  const locked = <T>(fn: () => Promise<T>) => withPendingLoginLock(parts.config, fn);
  const { pending, context } = await locked(async () => {
    const pending = await current(parts, "manual");
    return { pending, context: await contextOf(parts, pending, signal) };
  });
  const { completeManualAuthorization } = await import("./manual_login.ts");
  let grant;
  try {
    grant = await completeManualAuthorization(context, pasted, {
      redirectUri: pending.redirectUri!,
      state: pending.state!,
      codeVerifier: pending.codeVerifier!,
      signal,
    });
  } catch (error) {
    // Declined: this sign-in is over. Anything else (a forged or stale URL, a used code) leaves it to try again.
    if (isCliAuthError(error, "access_denied")) await locked(() => pendings.clearIf(pending));
    throw error;
  }
  const result = await completeLogin(parts, context, grant, "manual", signal, pending.dpopKey);
  await locked(() => pendings.clearIf(pending));
  return { done: true, result };
}
