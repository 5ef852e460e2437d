/**
 * The seam through which every request leaves the library: the runtime supplies a `fetch` that honours the proxy
 * settings and the extra trusted CAs (`adapters/transport.ts`), the core only calls it.
 *
 * @module
 */

import type { FetchLike } from "./common/http.ts";
import type { ProxySetting } from "./transport/proxy_env.ts";

/**
 * How requests reach the network.
 *
 * @example Usage
 * ```ts
 * import type { TransportOptions } from "@x/cli-auth";
 * const options: TransportOptions = { proxy: "http://proxy.corp:3128", ca: "-----BEGIN CERTIFICATE-----\n…" };
 * ```
 */
export interface TransportOptions {
  /** A proxy URL (credentials allowed), `false` for none; default: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`. */
  proxy?: ProxySetting;
  /** CA certificates (PEM) trusted besides the system's and the runtime's own setting. */
  ca?: string | readonly string[];
}

/**
 * Makes the `fetch` the library's requests go through, for the running runtime: loopback always direct, the proxy
 * chosen per request (`proxyForUrl`), the CAs trusted besides the default ones, and untrusted certificates or a
 * refused tunnel reported as `network_error` with a hint.
 *
 * @example Usage
 * ```ts
 * import type { CreateTransport } from "@x/cli-auth";
 * const direct: CreateTransport = () => (input, init) => fetch(input, init);
 * const response = await direct({ proxy: false })("https://auth.example.com/.well-known/openid-configuration");
 * ```
 */
export type CreateTransport = (options?: TransportOptions) => FetchLike;
