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
 * The stable codes of {@link CliAuthError}. Switch on `error.code`; the list only grows.
 *
 * @example Usage
 * ```ts
 * import type { CliAuthErrorCode } from "@x/cli-auth";
 * const retryable: CliAuthErrorCode[] = ["network_error", "timeout", "server_error"];
 * ```
 */
export type CliAuthErrorCode =
  | "login_timeout"
  | "login_cancelled"
  | "access_denied"
  | "state_mismatch"
  | "issuer_mismatch"
  | "not_logged_in"
  | "session_expired"
  | "invalid_grant"
  | "invalid_client"
  | "invalid_request"
  | "invalid_scope"
  | "device_code_expired"
  | "discovery_failed"
  | "network_error"
  | "timeout"
  | "server_error"
  | "oauth_error"
  | "invalid_response"
  | "storage_unavailable"
  | "storage_corrupt"
  | "unsupported_flow"
  | "port_unavailable"
  | "invalid_token"
  | "insufficient_scope"
  /** The API (RFC 9470) needs a stronger (`acr`) or more recent (`auth_time`) sign-in than the token's: log in again. */
  | "insufficient_user_authentication"
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
 * import { describeOperation } from "@x/cli-auth/protocol";
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
 * import { timeoutError } from "@x/cli-auth/protocol";
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
