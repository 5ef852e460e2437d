/**
 * The one-shot loopback listener of the browser login (RFC 8252 §7.3): binds `127.0.0.1` (or `::1`), never
 * `0.0.0.0` or `localhost`, on a random or chosen port, serves the core's callback handler, answers the browser
 * before resolving, then closes.
 *
 * @module
 */

import { createCallbackHandler } from "../src/login/callback.ts";
import type { LoopbackServer, LoopbackServerOptions } from "../src/contracts.ts";
import { CliAuthError } from "../src/common/errors.ts";
import { isAddressInUse, type Listen, type Listener } from "./listener.ts";
import { detectRuntime, type RuntimeKey } from "./runtime.ts";

/**
 * Loads the runtime's listener. Literal import paths, so `deno compile` and `bun build --compile` include them.
 *
 * @param runtime the runtime (default: detected)
 * @returns the runtime's {@link Listen}
 *
 * @example Usage
 * ```ts
 * import { loadListen } from "@x/cli-auth/adapters";
 * const listen = await loadListen();
 * ```
 */
export async function loadListen(runtime: RuntimeKey = detectRuntime()): Promise<Listen> {
  switch (runtime) {
    case "deno":
      return (await import("./deno/listener.ts")).listen;
    case "bun":
      return (await import("./bun/listener.ts")).listen;
    default:
      return (await import("./node/listener.ts")).listen;
  }
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1"]);

/**
 * Starts the loopback listener for one login and returns its redirect URI. Ports are tried in order; 0 (the default)
 * lets the OS pick a free one.
 *
 * @param options host, port(s), callback path, this login's state, validation, pages and a cancel signal
 * @returns the redirect URI, a promise of the callback's parameters, and close()
 * @throws {CliAuthError} `invalid_options` (not a loopback host), `port_unavailable` (every port taken)
 *
 * @example Usage
 * ```ts
 * import { startLoopbackServer } from "@x/cli-auth/adapters";
 * const server = await startLoopbackServer({ state: "xyz" });
 * console.error(`redirect_uri=${server.redirectUri}`);
 * const params = await server.waitForCallback(); // after the browser came back
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 */
export async function startLoopbackServer(
  options: LoopbackServerOptions & { listen?: Listen },
): Promise<LoopbackServer> {
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
  const listen = options.listen ?? await loadListen();

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
