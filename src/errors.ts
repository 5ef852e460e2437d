/**
 * The one error class of `@x/cli-auth` and the mapping of protocol, network and timeout failures onto it.
 *
 * Every failure the library raises is a {@link CliAuthError} with a stable {@link CliAuthErrorCode}. Messages, hints
 * and causes never carry a token, code, verifier or secret: errors from `oauth4webapi` keep whole request parameters
 * and token responses in their `cause`, so they are never forwarded as they are (see {@link toCliAuthError}).
 *
 * @module
 */

import * as oauth from "oauth4webapi";

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

const oauthErrorCodes: Record<string, CliAuthErrorCode> = {
  invalid_grant: "invalid_grant",
  access_denied: "access_denied",
  expired_token: "device_code_expired",
  invalid_client: "invalid_client",
  unauthorized_client: "invalid_client",
  invalid_request: "invalid_request",
  invalid_scope: "invalid_scope",
  server_error: "server_error",
  temporarily_unavailable: "server_error",
  invalid_token: "invalid_token",
  insufficient_scope: "insufficient_scope",
  unsupported_grant_type: "unsupported_flow",
  unsupported_response_type: "unsupported_flow",
};

/**
 * An error that keeps only the name, message and a code of the original: safe to log and to serialize.
 * oauth4webapi's own messages name parameters, never their values.
 */
export function sanitizedCause(error: unknown): Error | undefined {
  if (error === undefined || error === null) return undefined;
  if (isCliAuthError(error)) return error;
  const source = error instanceof Error ? error : new Error(String(error));
  const safe = new Error(source.message);
  safe.name = source.name;
  const code = (source as { code?: unknown }).code;
  if (typeof code === "string") (safe as Error & { code?: string }).code = code;
  // A network error's own cause (ECONNREFUSED…) holds no secret and says what happened.
  const inner = (source as { cause?: unknown }).cause;
  if (inner instanceof Error && !(source instanceof oauth.OperationProcessingError)) {
    const nested = new Error(inner.message);
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

function statusOf(error: unknown): number | undefined {
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.WWWAuthenticateChallengeError) {
    return error.status;
  }
  if (error instanceof oauth.OperationProcessingError) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Response) return cause.status;
  }
  return undefined;
}

/**
 * Maps anything thrown during `operation` onto a {@link CliAuthError} with a stable code and no secrets. A
 * `CliAuthError` passes through unchanged.
 *
 * @param error what was thrown
 * @param operation what was being done, for the message
 * @returns the error to throw
 *
 * @example Usage
 * ```ts
 * import { toCliAuthError } from "@x/cli-auth";
 * const error = toCliAuthError(new TypeError("fetch failed"), "token");
 * console.assert(error.code === "network_error");
 * ```
 */
export function toCliAuthError(error: unknown, operation: Operation): CliAuthError {
  const wrapped = findInChain(error, (e) => isCliAuthError(e));
  if (wrapped) return wrapped as CliAuthError;
  const label = operationLabel[operation];
  const cause = sanitizedCause(error);

  if (isTimeoutError(error)) {
    return new CliAuthError("timeout", `${label} timed out`, {
      cause,
      hint: "Check your connection, or raise `timeoutMs` if the server is slow",
    });
  }
  if (isAbortError(error)) {
    return new CliAuthError("login_cancelled", `${label} was cancelled`, { cause });
  }

  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.AuthorizationResponseError) {
    const serverError = error.error;
    const description = typeof error.error_description === "string" ? error.error_description : undefined;
    const status = error instanceof oauth.ResponseBodyError ? error.status : undefined;
    let code = oauthErrorCodes[serverError] ?? "oauth_error";
    if (code === "oauth_error" && status !== undefined && status >= 500) code = "server_error";
    const scopeValue = error instanceof oauth.ResponseBodyError ? error.cause.scope : undefined;
    return new CliAuthError(
      code,
      `${label} failed: the server answered "${serverError}"${description ? ` (${description})` : ""}`,
      {
        cause,
        error: serverError,
        errorDescription: description,
        status,
        scopes: typeof scopeValue === "string" ? scopeValue.split(" ").filter(Boolean) : undefined,
        hint: hintFor(code),
      },
    );
  }

  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const challenge = error.cause[0];
    const serverError = challenge?.parameters.error;
    const description = challenge?.parameters.error_description;
    const code = (serverError && oauthErrorCodes[serverError]) ||
      (error.status === 401 ? "invalid_token" : error.status >= 500 ? "server_error" : "oauth_error");
    return new CliAuthError(
      code,
      `${label} failed: the server answered ${error.status}${serverError ? ` "${serverError}"` : ""}${
        description ? ` (${description})` : ""
      }`,
      {
        cause,
        error: serverError,
        errorDescription: description,
        status: error.status,
        scopes: challenge?.parameters.scope?.split(" ").filter(Boolean),
        hint: hintFor(code),
      },
    );
  }

  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
    const status = statusOf(error);
    if (error.code === oauth.HTTP_REQUEST_FORBIDDEN || error.code === oauth.REQUEST_PROTOCOL_FORBIDDEN) {
      return new CliAuthError("invalid_options", `${label} needs an https:// URL`, {
        cause,
        hint: "Use https, or set `allowInsecureRequests: true` for a local development server",
      });
    }
    if (status !== undefined && status >= 500) {
      return new CliAuthError("server_error", `${label} failed: the server answered ${status}`, {
        cause,
        status,
        hint: hintFor("server_error"),
      });
    }
    return new CliAuthError(
      "invalid_response",
      `${label} failed: the server's response is not valid (${error.message})${
        status !== undefined ? ` [HTTP ${status}]` : ""
      }`,
      { cause, status },
    );
  }

  if (error instanceof TypeError) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_INVALID_ARG_TYPE" || code === "ERR_INVALID_ARG_VALUE") {
      return new CliAuthError("invalid_options", `${label} could not be made: ${error.message}`, { cause });
    }
    return networkError(error, operation);
  }

  return new CliAuthError("network_error", `${label} failed: ${cause?.message ?? "unknown error"}`, {
    cause,
    hint: hintFor("network_error"),
  });
}

/**
 * The error for a request that never got an HTTP answer (refused, reset, DNS, TLS).
 *
 * @param error what `fetch` threw
 * @param operation what was being done
 * @returns a `network_error`
 */
export function networkError(error: unknown, operation: Operation): CliAuthError {
  const cause = sanitizedCause(error);
  const detail = (cause?.cause as Error | undefined)?.message ?? cause?.message;
  return new CliAuthError(
    "network_error",
    `${operationLabel[operation]} could not reach the server${detail ? ` (${detail})` : ""}`,
    { cause, hint: hintFor("network_error") },
  );
}

function hintFor(code: CliAuthErrorCode): string | undefined {
  switch (code) {
    case "invalid_grant":
    case "session_expired":
      return "Log in again";
    case "access_denied":
      return "The sign-in was declined; log in again and approve the request";
    case "device_code_expired":
      return "The code expired before it was approved; log in again and enter the new code promptly";
    case "invalid_client":
      return "Check the `clientId` (and `clientSecret`) registered at the authorization server";
    case "invalid_scope":
      return "Check the `scopes` option against what the authorization server allows";
    case "server_error":
      return "The authorization server had a problem; try again in a moment";
    case "network_error":
      return "Check your network connection and the issuer URL";
    case "unsupported_flow":
      return "Use a flow the authorization server supports";
    default:
      return undefined;
  }
}
