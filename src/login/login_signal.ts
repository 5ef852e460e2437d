/**
 * One signal for a whole login: it aborts with a `login_timeout` error when the login's time is up, and with a
 * `login_cancelled` error when the caller's signal aborts (Ctrl-C). Disposing clears the timer so nothing keeps the
 * process alive afterwards.
 *
 * @module
 */

import { CliAuthError, isCliAuthError } from "../common/errors.ts";

/** Default time a whole login may take. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 300_000;

/**
 * A login's combined signal and its disposal.
 *
 * @example Usage
 * ```ts
 * import { createLoginSignal } from "@x/cli-auth/protocol";
 * const login = createLoginSignal({ timeoutMs: 60_000 });
 * try {
 *   // pass login.signal to every step
 * } finally {
 *   login.dispose();
 * }
 * ```
 */
export interface LoginSignal {
  /** Aborts with `login_timeout` when time is up, or `login_cancelled` when the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** Clears the timer and stops listening to the caller's signal; call it when the login ends, however it ends. */
  dispose(): void;
}

/**
 * Creates the signal of one login.
 *
 * @param options the login's timeout and the caller's signal
 * @returns the signal and a dispose function
 *
 * @example Usage
 * ```ts
 * import { createLoginSignal } from "@x/cli-auth/protocol";
 * const controller = new AbortController();
 * const { signal, dispose } = createLoginSignal({ timeoutMs: 1_000, signal: controller.signal });
 * dispose();
 * ```
 */
export function createLoginSignal(options: { timeoutMs?: number; signal?: AbortSignal }): LoginSignal {
  const controller = new AbortController();
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS;
  const timer = setTimeout(() => {
    controller.abort(
      new CliAuthError("login_timeout", `The sign-in did not finish within ${Math.round(timeoutMs / 1000)} s`, {
        hint: "Run the login again and complete it in the browser",
      }),
    );
  }, timeoutMs);
  const onAbort = () => controller.abort(cancelled(options.signal?.reason));
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * The `login_cancelled` error for an abort `reason` (kept as the cause when it is not secret-bearing).
 *
 * @param reason the abort reason
 * @returns the error to throw
 *
 * @example Usage
 * ```ts
 * import { cancelled } from "./login_signal.ts";
 * const error = cancelled(new DOMException("Aborted", "AbortError"));
 * console.assert(error.code === "login_cancelled");
 * ```
 */
export function cancelled(reason: unknown): CliAuthError {
  if (isCliAuthError(reason, "login_cancelled", "login_timeout")) return reason;
  return new CliAuthError("login_cancelled", "The sign-in was cancelled", {
    cause: reason instanceof Error ? new Error(reason.message) : undefined,
  });
}

/**
 * Maps what a login step threw once the login signal fired: the signal's own reason wins (timeout or cancel).
 *
 * @param error what was thrown
 * @param signal the login signal
 * @returns the error to rethrow
 *
 * @example Usage
 * ```ts
 * import { createLoginSignal } from "@x/cli-auth/protocol";
 * import { abortReason } from "./login_signal.ts";
 * const login = createLoginSignal({ timeoutMs: 10 });
 * const error = abortReason(new Error("x"), login.signal);
 * login.dispose();
 * ```
 */
export function abortReason(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return isCliAuthError(signal.reason) ? signal.reason : cancelled(signal.reason);
  return error;
}

/**
 * Waits `ms`, or rejects as soon as `signal` aborts; the timer never outlives the wait.
 *
 * @param ms how long to wait
 * @param signal aborts the wait
 *
 * @example Usage
 * ```ts
 * import { sleep } from "./login_signal.ts";
 * await sleep(10, AbortSignal.timeout(1_000));
 * ```
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
