/**
 * Mapping whatever a request threw — oauth4webapi's errors, fetch failures, timeouts — onto {@link CliAuthError}
 * with a stable code and no secrets. Apart from `errors.ts` so that the error class alone does not load oauth4webapi.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import {
  CliAuthError,
  type CliAuthErrorCode,
  describeOperation,
  isAbortError,
  isCliAuthError,
  isTimeoutError,
  type Operation,
  sanitizedCause,
  timeoutError,
} from "./errors.ts";
import { redactSecrets, secretsSentFor } from "./echoed_secrets.ts";
import { printable } from "./printable.ts";

function findCliAuthError(error: unknown): CliAuthError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (isCliAuthError(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

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
 * A string the server sent, as it may be shown or copied into an error: without control characters (terminal
 * escapes) and without any secret of the request it answers, however the server escaped it.
 *
 * @param value the parsed string (a JSON field's value, a challenge parameter)
 * @param secrets the secrets of the request (`secretsSentFor(response)`)
 * @returns the text fit to show
 */
export function serverText(value: string, secrets: readonly string[]): string;
export function serverText(value: string | undefined, secrets: readonly string[]): string | undefined;
export function serverText(value: string | undefined, secrets: readonly string[]): string | undefined {
  return value === undefined ? undefined : redactSecrets(printable(value), secrets);
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
 * import { toCliAuthError } from "@x/cli-auth/protocol";
 * const error = toCliAuthError(new TypeError("fetch failed"), "token");
 * console.assert(error.code === "network_error");
 * ```
 */
export function toCliAuthError(error: unknown, operation: Operation): CliAuthError {
  const wrapped = findCliAuthError(error);
  if (wrapped) return wrapped;
  const label = describeOperation(operation);
  const cause = sanitizedCause(error);

  if (isTimeoutError(error)) return timeoutError(operation, cause);
  if (isAbortError(error)) {
    return new CliAuthError("login_cancelled", `${label} was cancelled`, { cause });
  }

  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.AuthorizationResponseError) {
    // The authorization response came through the browser: no request of ours, no secret of ours to find in it.
    const secrets = error instanceof oauth.ResponseBodyError ? secretsSentFor(error.response) : [];
    const serverError = serverText(error.error, secrets);
    const description = typeof error.error_description === "string" ? serverText(error.error_description, secrets) : undefined;
    const status = error instanceof oauth.ResponseBodyError ? error.status : undefined;
    let code = oauthErrorCodes[error.error] ?? "oauth_error";
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
        scopes: typeof scopeValue === "string" ? serverText(scopeValue, secrets).split(" ").filter(Boolean) : undefined,
        hint: hintFor(code),
      },
    );
  }

  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const secrets = secretsSentFor(error.response);
    const challenge = error.cause[0];
    const rawError = challenge?.parameters.error;
    const serverError = serverText(rawError, secrets);
    const description = serverText(challenge?.parameters.error_description, secrets);
    const scopeValue = serverText(challenge?.parameters.scope, secrets);
    const code = (rawError && oauthErrorCodes[rawError]) ||
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
        scopes: scopeValue?.split(" ").filter(Boolean),
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
      `${label} failed: the server's response is not valid (${printable(error.message)})${
        status !== undefined ? ` [HTTP ${status}]` : ""
      }`,
      { cause, status },
    );
  }

  if (error instanceof TypeError) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_INVALID_ARG_TYPE" || code === "ERR_INVALID_ARG_VALUE") {
      return new CliAuthError("invalid_options", `${label} could not be made: ${printable(error.message)}`, { cause });
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
    `${describeOperation(operation)} could not reach the server${detail ? ` (${detail})` : ""}`,
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
