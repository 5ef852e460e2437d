/**
 * The one-line contract each runtime's loopback listener implements: serve a `Request -> Response` handler on a
 * loopback address and port, and close again, ending idle keep-alive connections so the process can exit.
 *
 * @module
 */

/**
 * Options of a {@link Listen} call.
 *
 * @example Usage
 * ```ts
 * import type { ListenOptions } from "@x/cli-auth/adapters";
 * const options: ListenOptions = { hostname: "127.0.0.1", port: 0, handler: () => new Response("ok") };
 * ```
 */
export interface ListenOptions {
  /** `127.0.0.1` or `::1`. */
  hostname: string;
  /** The port; 0 picks a free one. */
  port: number;
  /** Answers each request. */
  handler: (request: Request) => Response | Promise<Response>;
}

/**
 * A listening server.
 *
 * @example Usage
 * ```ts
 * import type { Listener } from "@x/cli-auth/adapters";
 * async function stop(listener: Listener) { await listener.close(); }
 * ```
 */
export interface Listener {
  /** The port actually bound. */
  readonly port: number;
  /** Stops listening, lets a response in flight finish (briefly), then ends every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a listener. Rejects with an error whose `code` is `"EADDRINUSE"` when the port is taken.
 *
 * @example Usage
 * ```ts
 * import type { Listen } from "@x/cli-auth/adapters";
 * declare const listen: Listen;
 * const listener = await listen({ hostname: "127.0.0.1", port: 0, handler: () => new Response("hi") });
 * await listener.close();
 * ```
 */
export type Listen = (options: ListenOptions) => Promise<Listener>;

/** How long a close waits for a response in flight before ending connections. */
export const CLOSE_GRACE_MS = 250;

/**
 * Whether `error` says the address or port is taken, in any runtime's words.
 *
 * @param error what the listen call threw
 * @returns true for "address in use"
 *
 * @example Usage
 * ```ts
 * import { isAddressInUse } from "@x/cli-auth/adapters";
 * console.assert(isAddressInUse(Object.assign(new Error("x"), { code: "EADDRINUSE" })));
 * ```
 */
export function isAddressInUse(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === "EADDRINUSE" || error.name === "AddrInUse" || /address (already )?in use|EADDRINUSE/i.test(error.message);
}
