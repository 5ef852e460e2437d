/**
 * Transport options shared by every request the library makes: a timeout on each request, an optional caller
 * signal, a custom `fetch`, and the loopback-only escape hatch for `http://` issuers.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { CliAuthError, describeOperation, isAbortError, isTimeoutError, type Operation, timeoutError } from "./errors.ts";
import { networkError } from "./error_mapping.ts";
import { rememberSecretsSent } from "./echoed_secrets.ts";

/** The `fetch` signature the library calls. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * How requests are made: the same for discovery, token, revocation, userinfo and device requests.
 *
 * @example Usage
 * ```ts
 * import type { HttpOptions } from "@x/cli-auth";
 * const http: HttpOptions = { timeoutMs: 10_000, allowInsecureRequests: false };
 * ```
 */
export interface HttpOptions {
  /** Per-request timeout in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** A `fetch` to use instead of the global one (proxies, instrumentation). */
  fetch?: FetchLike;
  /** Permit `http://` URLs (local development and tests only). */
  allowInsecureRequests?: boolean;
  /** Largest response body accepted, in bytes (default 1 MiB). */
  maxResponseBytes?: number;
}

/** Default per-request timeout. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Default cap on the size of a response body. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** oauth4webapi's request options with our timeout, fetch and insecure-request settings applied. */
export interface RequestOptions {
  signal: (url: string) => AbortSignal;
  [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;
  [oauth.allowInsecureRequests]?: boolean;
}

/**
 * A signal that aborts after `timeoutMs`, or when `signal` aborts, whichever comes first.
 *
 * @param timeoutMs the timeout
 * @param signal an optional caller signal
 * @returns the combined signal
 */
export function timeoutSignal(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

/**
 * Wraps `fetch` so that a request that never gets an answer throws a {@link CliAuthError} (`network_error`,
 * `timeout`), a body that breaks off fails the same way when it is read, and a response body is cut off beyond
 * `maxResponseBytes` (`invalid_response`). A failed response keeps the secrets of its request (see
 * `echoed_secrets.ts`), so that what the server quotes back is redacted where it is copied into an error.
 *
 * @param http the transport options
 * @param operation what the request is for (named in errors)
 * @returns a fetch function with the same signature
 */
export function guardedFetch(http: HttpOptions, operation: Operation): FetchLike {
  const fetchImpl: FetchLike = http.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const maxBytes = http.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  return async (input, init) => {
    let response: Response;
    try {
      response = await fetchImpl(input, init);
    } catch (error) {
      throw transportFailure(error, operation, init?.signal ?? undefined);
    }
    const limited = limitBody(response, maxBytes, operation, init?.signal ?? undefined);
    const answer = TOKEN_OPERATIONS.has(operation) ? await errorIn200(limited) : limited;
    if (!answer.ok) rememberSecretsSent(answer, init);
    return answer;
  };
}

const TOKEN_OPERATIONS = new Set<Operation>(["token", "refresh", "device_token"]);

/**
 * Some servers (GitHub) answer token requests that failed with `200` and an OAuth error body, where RFC 6749 §5.2
 * says `400`. Such an answer is given the status it should have had, so it is handled as the error it is.
 */
async function errorIn200(response: Response): Promise<Response> {
  if (response.status !== 200 || !/json/i.test(response.headers.get("content-type") ?? "")) return response;
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const record = body as Record<string, unknown> | undefined;
  const isError = typeof record?.error === "string" && record.access_token === undefined;
  return new Response(text, { status: isError ? 400 : 200, statusText: isError ? "Bad Request" : response.statusText, headers: response.headers });
}

function limitBody(response: Response, maxBytes: number, operation: Operation, signal?: AbortSignal): Response {
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  const tooLarge = () =>
    new CliAuthError(
      "invalid_response",
      `${describeOperation(operation)} failed: the response body is larger than ${maxBytes} bytes`,
      { status: response.status },
    );
  if (Number.isFinite(declared) && declared > maxBytes) {
    void response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return response;
  const reader = response.body.getReader();
  let seen = 0;
  const limited = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        // The answer broke off after its head (connection reset, timeout while reading): that is the transport
        // failing, not the server sending something invalid, so it gets the same codes as a failed request.
        controller.error(transportFailure(error, operation, signal));
        return;
      }
      if (chunk.done) {
        controller.close();
        return;
      }
      seen += chunk.value.byteLength;
      if (seen > maxBytes) {
        controller.error(tooLarge());
        void reader.cancel().catch(() => {});
        return;
      }
      controller.enqueue(chunk.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(limited, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** A request, or the read of its body, that failed without an answer: timeout, cancel, or network trouble. */
function transportFailure(error: unknown, operation: Operation, signal?: AbortSignal): unknown {
  // The transport's own diagnosis (untrusted certificate, refused tunnel, a bad proxy setting) says more.
  if (error instanceof CliAuthError) return error;
  if (isTimeoutError(error) || (signal?.aborted && isTimeoutError(signal.reason))) return timeoutError(operation);
  if (isAbortError(error) || signal?.aborted) return signal?.reason ?? error;
  return networkError(error, operation);
}

/**
 * oauth4webapi request options for one call: per-request timeout (also covering the body read), caller signal,
 * custom fetch with network errors mapped and the secrets of failed requests kept for redaction, and
 * `allowInsecureRequests`.
 *
 * @param http the transport options
 * @param operation what the request is for
 * @param signal an optional caller signal that cancels the request
 * @returns options to spread into an oauth4webapi call
 */
export function requestOptions(http: HttpOptions, operation: Operation, signal?: AbortSignal): RequestOptions {
  const timeoutMs = http.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fetchImpl = guardedFetch(http, operation);
  const options: RequestOptions = {
    signal: () => timeoutSignal(timeoutMs, signal),
    [oauth.customFetch]: (url, init) => fetchImpl(url, init as RequestInit),
  };
  if (http.allowInsecureRequests) options[oauth.allowInsecureRequests] = true;
  return options;
}
