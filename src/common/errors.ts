/**
 * The one error class of `@x/cli-auth` and the mapping of protocol, network and timeout failures onto it.
 *
 * Every failure the library raises is a {@link CliAuthError} with a stable {@link CliAuthErrorCode}. Messages, hints
 * and causes never carry a token, code, verifier or secret: errors from `oauth4webapi` keep whole request parameters
 * and token responses in their `cause`, so they are never forwarded as they are (see `toCliAuthError` in
 * `error_mapping.ts`, kept apart so that importing the error class does not load oauth4webapi).
 *
 * @module
 */

import { printable } from "./printable.ts";

/**
 * The stable codes of {@link CliAuthError}, each documented with what happened and what the user does next (the
 * error's `hint` says it for the case at hand). Switch on `error.code`; the list only grows.
 *
 * @example Usage
 * ```ts
 * import type { CliAuthErrorCode } from "@x/cli-auth";
 * const retryable: CliAuthErrorCode[] = ["network_error", "timeout", "server_error"];
 * ```
 */
export type CliAuthErrorCode =
  /** The login took longer than its `timeoutMs` (default 5 minutes); nothing was stored. Run the login again. */
  | "login_timeout"
  /**
   * The login was cancelled: its `signal` aborted, its listener was closed, or stdin ended before a URL was pasted.
   * Nothing was stored.
   */
  | "login_cancelled"
  /**
   * The user (or the server's policy) refused the sign-in. Sign in again and approve, or ask the administrator for
   * access.
   */
  | "access_denied"
  /**
   * A callback did not carry this login's `state` (a stale tab, or a forged request); it was refused. Start the login
   * again.
   */
  | "state_mismatch"
  /**
   * The server answered as another issuer than the one configured (discovery, or the callback's `iss`). Check `issuer`.
   */
  | "issuer_mismatch"
  /** No session is stored for the profile. Log in (the hint names the command), or pass a token. */
  | "not_logged_in"
  /**
   * The stored login can no longer be renewed (its refresh token refused or missing); the profile is cleared if it
   * still holds that login. Log in again.
   */
  | "session_expired"
  /** The server refused a grant (an authorization code or refresh token: used, expired or revoked). Log in again. */
  | "invalid_grant"
  /**
   * The server does not know the client (wrong `clientId`, or a registration it forgot). Check `clientId`; a registered
   * client is registered again on the next login.
   */
  | "invalid_client"
  /**
   * The server found the request malformed (its `error_description` says why): a configuration the server does not
   * accept.
   */
  | "invalid_request"
  /** The server refused the scopes asked for. Ask for scopes the client may have (`scopes`). */
  | "invalid_scope"
  /** The device code expired before the user approved it. Run the login again and approve sooner. */
  | "device_code_expired"
  /**
   * `resumeLogin()` found no pending login for the profile (none begun, already finished, cancelled, denied or
   * expired). Begin one (the hint names the command).
   */
  | "no_pending_login"
  /**
   * The authorization server's metadata (or the resource's) could not be found or read. Check `issuer` (or `resource`)
   * and the network.
   */
  | "discovery_failed"
  /**
   * The server could not be reached (DNS, refused connection, TLS, proxy); the hint says which. Check the connection,
   * proxy and CAs.
   */
  | "network_error"
  /**
   * A request took longer than `timeoutMs` (or a lock wait than its timeout). Try again, or raise the timeout for a
   * slow server.
   */
  | "timeout"
  /** The server failed (HTTP 5xx or `server_error`); the session is kept. Try again later. */
  | "server_error"
  /** The server answered with another OAuth error; `error` and `errorDescription` carry its words. */
  | "oauth_error"
  /**
   * The server's answer broke the protocol (malformed JSON, missing fields, failed checks). Report it to the server's
   * operator.
   */
  | "invalid_response"
  /**
   * The credential store cannot be used (keychain locked or missing, file not writable, lock folder not the user's).
   * Fix the store, or choose another `storage`.
   */
  | "storage_unavailable"
  /** The stored session (or a split keychain value) cannot be read back. Log in again to replace it. */
  | "storage_corrupt"
  /**
   * The server does not offer what the flow needs (device flow, client registration, revocation). Choose another flow
   * or configure the client.
   */
  | "unsupported_flow"
  /**
   * The loopback listener could not bind (every port taken, or loopback networking blocked). Pass other `port`s, or use
   * the device flow.
   */
  | "port_unavailable"
  /**
   * The token was refused (by the API, userinfo or the server verifier). Refresh or log in again; on the server side,
   * the request is unauthorized.
   */
  | "invalid_token"
  /** The API needs scopes this login did not grant (`scopes` on the error names them). Log in again asking for them. */
  | "insufficient_scope"
  /** The API (RFC 9470) needs a stronger (`acr`) or more recent (`auth_time`) sign-in than the token's: log in again. */
  | "insufficient_user_authentication"
  /**
   * `auth.fetch`: the API answered that this request needs a stronger (`acr`) or more recent (`auth_time`) sign-in
   * than the session's (RFC 9470 `insufficient_user_authentication`). Nothing was refreshed or retried: a refreshed
   * token carries the same sign-in. `acrValues` and `maxAge` on the error say what the API asked for; log in again
   * with them (`login({ acrValues, maxAge })`), then repeat the request.
   */
  | "step_up_required"
  /** The options (or a name, URL or value given to the library) cannot work; the message says which. Fix the call. */
  | "invalid_options";

/**
 * Everything {@link CliAuthError} can carry besides its code and message.
 *
 * @example Usage
 * ```ts
 * import { CliAuthError, type CliAuthErrorOptions } from "@x/cli-auth";
 * const options: CliAuthErrorOptions = { hint: "Run `my-cli login`" };
 * throw new CliAuthError("not_logged_in", "No stored login", options);
 * ```
 */
export interface CliAuthErrorOptions {
  /** What the user should do next, e.g. "Run `my-cli login`". */
  hint?: string;
  /** The underlying failure, already stripped of secrets. */
  cause?: unknown;
  /** The OAuth `error` value the server sent, when there was one. */
  error?: string;
  /** The OAuth `error_description` the server sent, when there was one. */
  errorDescription?: string;
  /** The HTTP status of the response that failed, when there was one. */
  status?: number;
  /** Scopes the server asked for (`insufficient_scope`). */
  scopes?: string[];
  /** The authentication context classes the API asked for (`step_up_required`). */
  acrValues?: string[];
  /** The most seconds since the user's last sign-in the API accepts (`step_up_required`). */
  maxAge?: number;
}

/**
 * The only error class `@x/cli-auth` throws. `code` is stable; `message` is for humans; `hint` says what to do next.
 *
 * @example Usage
 * ```ts
 * import { CliAuth, CliAuthError } from "@x/cli-auth";
 * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
 * try {
 *   await auth.getAccessToken();
 * } catch (error) {
 *   if (error instanceof CliAuthError && error.code === "not_logged_in") console.error(error.hint);
 *   else throw error;
 * }
 * ```
 */
export class CliAuthError extends Error {
  /** The stable code: switch on it. */
  readonly code: CliAuthErrorCode;
  /** What the user should do next. */
  readonly hint?: string;
  /** The OAuth `error` the server sent, when there was one. */
  readonly error?: string;
  /** The OAuth `error_description` the server sent, when there was one. */
  readonly errorDescription?: string;
  /** The HTTP status of the failed response, when there was one. */
  readonly status?: number;
  /** Scopes the server asked for, on `insufficient_scope`. */
  readonly scopes?: string[];
  /**
   * On `step_up_required`: the authentication context class references (`acr`) the API accepts, any one of them,
   * from the challenge's `acr_values` (without terminal controls). Pass them to `login({ acrValues })`.
   *
   * @example Step up and retry
   * ```ts
   * import { CliAuth, isCliAuthError } from "@x/cli-auth";
   * const auth = new CliAuth({ resource: "https://api.example.com/", service: "my-cli" });
   * const call = () => auth.fetch("https://api.example.com/payouts", { method: "POST" });
   * let response: Response;
   * try {
   *   response = await call();
   * } catch (error) {
   *   if (!isCliAuthError(error, "step_up_required")) throw error;
   *   console.error(error.hint);
   *   await auth.login({ acrValues: error.acrValues, maxAge: error.maxAge });
   *   response = await call();
   * }
   * ```
   */
  readonly acrValues?: string[];
  /**
   * On `step_up_required`: the most seconds since the user's last sign-in the API accepts (the challenge's
   * `max_age`; `0` asks for a sign-in now). Absent when the API did not say, or said something that is not a whole
   * number of seconds. Pass it to `login({ maxAge })`.
   *
   * @example Usage
   * ```ts
   * import { CliAuth, isCliAuthError } from "@x/cli-auth";
   * const auth = new CliAuth({ resource: "https://api.example.com/", service: "my-cli" });
   * try {
   *   await auth.fetch("https://api.example.com/keys", { method: "DELETE" });
   * } catch (error) {
   *   if (isCliAuthError(error, "step_up_required") && error.maxAge === 0) console.error("Sign in again, now.");
   *   else throw error;
   * }
   * ```
   */
  readonly maxAge?: number;

  /**
   * Makes an error with a stable code, a message for humans and, optionally, a hint, a cause and server details.
   *
   * @param code the stable code
   * @param message a human sentence, without secrets
   * @param options hint, sanitized cause and server details
   */
  constructor(code: CliAuthErrorCode, message: string, options: CliAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliAuthError";
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.error !== undefined) this.error = options.error;
    if (options.errorDescription !== undefined) this.errorDescription = options.errorDescription;
    if (options.status !== undefined) this.status = options.status;
    if (options.scopes !== undefined) this.scopes = options.scopes;
    if (options.acrValues !== undefined) this.acrValues = options.acrValues;
    if (options.maxAge !== undefined) this.maxAge = options.maxAge;
  }

  /** A plain object for logs and `JSON.stringify`: name, code, message, hint and server details. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      hint: this.hint,
      error: this.error,
      errorDescription: this.errorDescription,
      status: this.status,
      scopes: this.scopes,
      acrValues: this.acrValues,
      maxAge: this.maxAge,
    };
  }
}

/**
 * Whether `value` is a {@link CliAuthError}, optionally with one of the given codes. Works across copies of the module.
 *
 * @example Usage
 * ```ts
 * import { isCliAuthError } from "@x/cli-auth";
 * const error: unknown = new Error("x");
 * if (isCliAuthError(error, "session_expired")) console.error(error.hint);
 * ```
 */
export function isCliAuthError(value: unknown, ...codes: CliAuthErrorCode[]): value is CliAuthError {
  if (!(value instanceof Error) || value.name !== "CliAuthError") return false;
  return codes.length === 0 || codes.includes((value as CliAuthError).code);
}

/** What the operation was, so mapped messages say what failed ("Token request failed: …"). */
export type Operation =
  | "discovery"
  | "authorization"
  | "token"
  | "refresh"
  | "device_authorization"
  | "device_token"
  | "revocation"
  | "userinfo"
  | "introspection"
  | "registration"
  | "resource";

const operationLabel: Record<Operation, string> = {
  discovery: "Discovery of the authorization server",
  authorization: "The authorization response",
  token: "The token request",
  refresh: "The token refresh",
  device_authorization: "The device authorization request",
  device_token: "The device token request",
  revocation: "The token revocation",
  userinfo: "The userinfo request",
  introspection: "The token introspection",
  registration: "The client registration",
  resource: "The resource request",
};

/**
 * How messages name an operation ("The token refresh", "Discovery of the authorization server").
 *
 * @param operation what was being done
 * @returns the label that starts the message
 *
 * @example Usage
 * ```ts
 * import { describeOperation } from "./errors.ts";
 * console.assert(describeOperation("refresh") === "The token refresh");
 * ```
 */
export function describeOperation(operation: Operation): string {
  return operationLabel[operation];
}

/**
 * The `timeout` error of an operation: one wording and one hint wherever a timeout is noticed.
 *
 * @param operation what timed out
 * @param cause the sanitized cause, if any
 * @returns the error to throw
 *
 * @example Usage
 * ```ts
 * import { timeoutError } from "./errors.ts";
 * console.assert(timeoutError("token").code === "timeout");
 * ```
 */
export function timeoutError(operation: Operation, cause?: unknown): CliAuthError {
  return new CliAuthError("timeout", `${describeOperation(operation)} timed out`, {
    cause,
    hint: "Check your connection, or raise `timeoutMs` if the server is slow",
  });
}

/**
 * An error that keeps only the name, message and a code of the original: safe to log and to serialize, and to
 * print (control characters removed: a TLS error may quote a server's certificate). oauth4webapi's own messages
 * name parameters, never their values.
 *
 * @param error what was thrown
 * @returns a safe copy, or `undefined`
 */
export function sanitizedCause(error: unknown): Error | undefined {
  if (error === undefined || error === null) return undefined;
  if (isCliAuthError(error)) return error;
  const source = error instanceof Error ? error : new Error(String(error));
  const safe = new Error(printable(source.message));
  safe.name = source.name;
  const code = (source as { code?: unknown }).code;
  if (typeof code === "string") (safe as Error & { code?: string }).code = code;
  // A network error's own cause (ECONNREFUSED…) holds no secret and says what happened.
  const inner = (source as { cause?: unknown }).cause;
  // oauth4webapi's processing errors (codes "OAUTH_…") keep request parameters and token responses in their cause: never copied.
  const fromOauth4webapi = typeof code === "string" && code.startsWith("OAUTH_");
  if (inner instanceof Error && !fromOauth4webapi) {
    const nested = new Error(printable(inner.message));
    nested.name = inner.name;
    const innerCode = (inner as { code?: unknown }).code;
    if (typeof innerCode === "string") (nested as Error & { code?: string }).code = innerCode;
    Object.defineProperty(safe, "cause", { value: nested, enumerable: false, configurable: true, writable: true });
  }
  return safe;
}

function findInChain(error: unknown, predicate: (e: Error) => boolean): Error | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (predicate(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether `error` is (or was caused by) an AbortSignal timeout. */
export function isTimeoutError(error: unknown): boolean {
  return findInChain(error, (e) => e.name === "TimeoutError") !== undefined;
}

/** Whether `error` is (or was caused by) an abort that was not a timeout. */
export function isAbortError(error: unknown): boolean {
  return findInChain(error, (e) => e.name === "AbortError") !== undefined;
}
