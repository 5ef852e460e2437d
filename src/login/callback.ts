/**
 * What the loopback listener does with each request, as a pure `Request -> Response` function: every check lives
 * here once, and each runtime's listener only maps its server onto it.
 *
 * - `Host` must be exactly the loopback address and port that was bound (DNS-rebinding guard);
 * - other paths (and `/favicon.ico`) get 404 and leave the one-shot open;
 * - only `GET` is accepted on the callback path;
 * - a callback whose `state` is not this login's gets an error page and is ignored (the login keeps waiting);
 * - with the right `state`, an `error=` ends the login with that error, a `code` ends it with success;
 * - the browser gets its page **before** the result settles.
 *
 * @module
 */

import { CliAuthError, isCliAuthError } from "../common/errors.ts";
import { type CallbackPageInfo, type CallbackPageRenderer, renderCallbackPage } from "./pages.ts";
import { printable } from "../common/printable.ts";

/**
 * Options of {@link createCallbackHandler}.
 *
 * @example Usage
 * ```ts
 * import type { CallbackHandlerOptions } from "@x/cli-auth";
 * const options: CallbackHandlerOptions = { host: "127.0.0.1:53682", callbackPath: "/callback", state: "xyz" };
 * ```
 */
export interface CallbackHandlerOptions {
  /** The exact `Host` header expected: the bound address and port, e.g. `127.0.0.1:53682` or `[::1]:53682`. */
  host: string;
  /** The redirect URI's path. */
  callbackPath: string;
  /** This login's `state`. */
  state: string;
  /**
   * Validates a callback that carries the right `state` (e.g. the RFC 9207 `iss` check and `error=` handling of
   * `validateCallback`). Throw a `CliAuthError` to end the login with it.
   */
  validate?: (params: URLSearchParams) => URLSearchParams;
  /** Renders the success and error pages (default {@link renderCallbackPage}). */
  renderPage?: CallbackPageRenderer;
}

/**
 * The request handler plus the one result it produces.
 *
 * @example Usage
 * ```ts
 * import { createCallbackHandler } from "@x/cli-auth/protocol";
 * const callback = createCallbackHandler({ host: "127.0.0.1:8080", callbackPath: "/callback", state: "xyz" });
 * const response = callback.handle(new Request("http://127.0.0.1:8080/callback?code=c&state=xyz", {
 *   headers: { host: "127.0.0.1:8080" },
 * }));
 * await response.text();
 * console.log((await callback.result).get("code")); // "c"
 * ```
 */
export interface CallbackHandler {
  /** Answers one request from the browser. */
  handle(request: Request): Response;
  /** Settles once, after the browser received the page for the accepted callback. */
  readonly result: Promise<URLSearchParams>;
  /** Whether the one-shot callback has been consumed. */
  readonly done: boolean;
  /** Ends the wait with `reason` if no callback was accepted yet (cancel, timeout). */
  abort(reason: unknown): void;
}

const SECURITY_HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
};

/**
 * An HTML response whose body is handed over chunk by chunk; `onDelivered` runs once the runtime has taken the
 * whole body (it asks for more after the last chunk) or the browser went away.
 */
function htmlResponse(html: string, status: number, onDelivered?: () => void, extra: Record<string, string> = {}): Response {
  const bytes = new TextEncoder().encode(html);
  let delivered = false;
  const deliver = () => {
    if (delivered) return;
    delivered = true;
    onDelivered?.();
  };
  let sent = false;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (!sent) {
          sent = true;
          controller.enqueue(bytes);
          return;
        }
        controller.close();
        deliver();
      },
      cancel() {
        deliver();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS, ...extra },
  });
}

function plain(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(text, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", connection: "close", ...SECURITY_HEADERS, ...extra },
  });
}

function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/**
 * Creates the loopback callback handler for one login.
 *
 * @param options expected host, path and state, the validation and the page renderer
 * @returns the handler and its result
 *
 * @example Usage
 * ```ts
 * import { createCallbackHandler } from "@x/cli-auth/protocol";
 * const callback = createCallbackHandler({ host: "127.0.0.1:8080", callbackPath: "/callback", state: "xyz" });
 * // hand callback.handle to the runtime's HTTP server (see adapters/), then:
 * const params = await callback.result;
 * ```
 */
export function createCallbackHandler(options: CallbackHandlerOptions): CallbackHandler {
  const render = options.renderPage ?? renderCallbackPage;
  let resolve!: (params: URLSearchParams) => void;
  let reject!: (reason: unknown) => void;
  const result = new Promise<URLSearchParams>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits yet (the login may still be printing the URL) must not be reported as unhandled.
  result.catch(() => {});
  let done = false;

  const page = (info: CallbackPageInfo, status: number, onDelivered?: () => void) => {
    let html: string;
    try {
      html = render(info);
    } catch {
      html = renderCallbackPage(info);
    }
    return htmlResponse(html, status, onDelivered, { connection: "close" });
  };

  const handle = (request: Request): Response => {
    if (request.headers.get("host") !== options.host) {
      return plain(421, "This listener only answers requests addressed to it.\n");
    }
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return plain(400, "Bad request.\n");
    }
    if (url.pathname !== options.callbackPath) return plain(404, "Not found.\n");
    if (request.method !== "GET") return plain(405, "Method not allowed.\n", { allow: "GET" });
    if (done) {
      return page({ kind: "error", title: "This sign-in is already finished", message: "You can close this tab." }, 410);
    }
    const params = url.searchParams;
    const states = params.getAll("state");
    if (states.length !== 1 || !sameString(states[0]!, options.state)) {
      return page({
        kind: "error",
        title: "This sign-in link is not for the running login",
        message: "It does not carry the state of the sign-in your command line started. Go back to the terminal and start the sign-in again if it is no longer waiting.",
      }, 400);
    }
    const codes = params.getAll("code");
    const errors = params.getAll("error");
    if (errors.length === 0 && codes.length !== 1) {
      return page({ kind: "error", title: "The sign-in response is incomplete", message: "It carries no authorization code." }, 400);
    }
    let validated: URLSearchParams;
    try {
      validated = options.validate ? options.validate(params) : params;
      if (errors.length > 0) {
        const description = params.get("error_description");
        throw new CliAuthError(errors[0] === "access_denied" ? "access_denied" : "oauth_error", "The sign-in was not approved", {
          error: printable(errors[0]!),
          errorDescription: description === null ? undefined : printable(description),
        });
      }
    } catch (error) {
      if (isCliAuthError(error, "state_mismatch")) {
        return page({ kind: "error", title: "This sign-in link is not for the running login" }, 400);
      }
      done = true;
      const failure = isCliAuthError(error) ? error : new CliAuthError("invalid_response", "The sign-in response is not valid");
      return page(
        {
          kind: "error",
          title: failure.code === "access_denied" ? "Sign-in was declined" : "Sign-in failed",
          message: "Return to the terminal for details. You can close this tab.",
          error: failure.error ?? failure.code,
          description: failure.errorDescription,
        },
        failure.code === "access_denied" ? 403 : 400,
        () => reject(failure),
      );
    }
    done = true;
    return page(
      {
        kind: "success",
        title: "Signed in",
        message: "You are signed in. You can close this tab and return to the terminal.",
      },
      200,
      () => resolve(validated),
    );
  };

  return {
    handle,
    result,
    get done() {
      return done;
    },
    abort(reason: unknown) {
      if (done) return;
      done = true;
      reject(reason);
    },
  };
}
