/**
 * The one-shot loopback listener of the browser login (RFC 8252 §7.3), runtime-neutral: binds `127.0.0.1` (or
 * `::1`), never `0.0.0.0` or `localhost`, on a random or chosen port through the runtime's {@link Listen}, serves the
 * callback handler (path, Host, state checks), answers the browser before resolving, then closes.
 *
 * @module
 */

import { CliAuthError } from "../common/errors.ts";
import type { Listen, Listener } from "../contracts.ts";
import { createCallbackHandler } from "./callback.ts";
import type { CallbackPageRenderer } from "./pages.ts";

/**
 * Options of the loopback listener ({@link startLoopbackServer}).
 *
 * @example Usage
 * ```ts
 * import type { LoopbackServerOptions } from "@x/cli-auth";
 * const options: LoopbackServerOptions = { state: "xyz", port: [53682, 53683], callbackPath: "/callback" };
 * ```
 */
export interface LoopbackServerOptions {
  /** `"127.0.0.1"` (default) or `"::1"`. */
  host?: string;
  /** A port, or ports to try in order; 0 (default) picks a free one. */
  port?: number | readonly number[];
  /** The redirect URI's path (default `/callback`). */
  callbackPath?: string;
  /** Cancels the wait and closes the listener; `waitForCallback()` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** This login's `state`: callbacks without it are answered with an error page and ignored. */
  state: string;
  /** Validates a callback with the right state; throw a `CliAuthError` to end the login with it. */
  validate?: (params: URLSearchParams) => URLSearchParams;
  /** Renders the success and error pages. */
  renderPage?: CallbackPageRenderer;
}

/**
 * A running loopback listener.
 *
 * @example Usage
 * ```ts
 * import type { LoopbackServer } from "@x/cli-auth";
 * async function code(server: LoopbackServer) { return (await server.waitForCallback()).get("code"); }
 * ```
 */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port><callbackPath>` (or `http://[::1]:…`). */
  readonly redirectUri: string;
  /** The bound port. */
  readonly port: number;
  /** Resolves with the callback's parameters after the browser got its page and the listener closed. */
  waitForCallback(): Promise<URLSearchParams>;
  /** Closes the listener now; a pending `waitForCallback()` rejects with `login_cancelled`. */
  close(): Promise<void>;
}

/**
 * How long a {@link Listen}er's close waits for a response in flight (the browser's page) before ending connections.
 *
 * @example Usage
 * ```ts
 * import { CLOSE_GRACE_MS } from "./loopback_server.ts";
 * console.assert(CLOSE_GRACE_MS === 250);
 * ```
 */
export const CLOSE_GRACE_MS = 250;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1"]);

/**
 * Starts the loopback listener for one login and returns its redirect URI. Ports are tried in order; 0 (the default)
 * lets the OS pick a free one.
 *
 * @param options host, port(s), callback path, this login's state, validation, pages, a cancel signal, and the
 * runtime's {@link Listen}
 * @returns the redirect URI, a promise of the callback's parameters, and close()
 * @throws {CliAuthError} `invalid_options` (not a loopback host), `port_unavailable` (every port taken)
 *
 * @example Usage
 * ```ts
 * import { startLoopbackServer } from "@x/cli-auth/protocol";
 * import type { Listen } from "@x/cli-auth";
 * declare const listen: Listen; // the runtime's, e.g. from `loadPlatform()`
 * const server = await startLoopbackServer({ state: "xyz", listen });
 * console.error(`redirect_uri=${server.redirectUri}`);
 * const params = await server.waitForCallback(); // after the browser came back
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 */
export async function startLoopbackServer(options: LoopbackServerOptions & { listen: Listen }): Promise<LoopbackServer> {
  const host = options.host ?? "127.0.0.1";
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new CliAuthError("invalid_options", `The loopback host must be "127.0.0.1" or "::1", not "${host}"`, {
      hint: 'Leave `host` unset, or set it to "::1" for IPv6',
    });
  }
  const callbackPath = options.callbackPath ?? "/callback";
  if (!callbackPath.startsWith("/")) {
    throw new CliAuthError("invalid_options", "The `callbackPath` option must start with /");
  }
  const ports = options.port === undefined ? [0] : typeof options.port === "number" ? [options.port] : [...options.port];
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) {
    throw new CliAuthError("invalid_options", "The `port` option must be a port number or a list of them");
  }
  if (options.signal?.aborted) throw options.signal.reason;
  const listen = options.listen;

  // The handler needs the bound port (for the Host check), known only once listening: until then, 503.
  const current: { handle?: (request: Request) => Response } = {};
  const handler = (request: Request) =>
    current.handle?.(request) ?? new Response("Starting.\n", { status: 503, headers: { connection: "close" } });

  let listener: Listener | undefined;
  for (const port of ports) {
    try {
      listener = await listen({ hostname: host, port, handler });
      break;
    } catch (error) {
      if (!isAddressInUse(error)) {
        throw new CliAuthError("port_unavailable", `Cannot listen on ${host}:${port}`, {
          cause: error,
          hint: "Check that loopback networking is allowed, or use the device flow",
        });
      }
    }
  }
  if (!listener) {
    throw new CliAuthError(
      "port_unavailable",
      `No free port for the sign-in callback on ${host} (tried ${ports.join(", ")})`,
      { hint: "Close the program using that port, or pass other ports with `port`" },
    );
  }

  const authority = `${host.includes(":") ? `[${host}]` : host}:${listener.port}`;
  const callback = createCallbackHandler({
    host: authority,
    callbackPath,
    state: options.state,
    validate: options.validate,
    renderPage: options.renderPage,
  });
  current.handle = callback.handle;

  const bound = listener;
  const onAbort = () => callback.abort(options.signal!.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let closed: Promise<void> | undefined;
  const close = () => {
    options.signal?.removeEventListener("abort", onAbort);
    closed ??= bound.close();
    return closed;
  };
  const settled = callback.result.then(
    async (params) => {
      await close();
      return params;
    },
    async (reason) => {
      await close();
      throw reason;
    },
  );
  settled.catch(() => {});

  return {
    redirectUri: `http://${authority}${callbackPath}`,
    port: listener.port,
    waitForCallback: () => settled,
    close: () => {
      callback.abort(new CliAuthError("login_cancelled", "The sign-in listener was closed"));
      return close();
    },
  };
}

/**
 * Whether `error` says the address or port is taken, in any runtime's words.
 *
 * @param error what the listen call threw
 * @returns true for "address in use"
 *
 * @example Usage
 * ```ts
 * import { isAddressInUse } from "./loopback_server.ts";
 * console.assert(isAddressInUse(Object.assign(new Error("x"), { code: "EADDRINUSE" })));
 * ```
 */
export function isAddressInUse(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === "EADDRINUSE" || error.name === "AddrInUse" || /address (already )?in use|EADDRINUSE/i.test(error.message);
}
