/**
 * Node's routed fetch: Node's own `fetch` with an `undici` dispatcher, `ProxyAgent` for a proxy and `Agent` for extra
 * CAs, one per proxy, kept for the connections' reuse. Node's `fetch` reads no proxy from the environment, so a
 * direct request without extra CAs is the plain `fetch`. `undici` is imported on the first request that needs it.
 *
 * @module
 */

import type { RoutedFetch } from "../runtime_pieces.ts";
import { withDefaultTrust } from "../transport/_default_trust.ts";

/**
 * Makes Node's routed fetch.
 *
 * @param ca the extra CAs (PEM)
 * @param env reads an environment variable (`NODE_EXTRA_CA_CERTS`)
 * @returns the routed fetch
 *
 * @example Usage
 * ```ts
 * import { createRoutedFetch } from "./transport.ts";
 * const routed = createRoutedFetch([], (name) => process.env[name]);
 * const response = await routed("https://auth.example.com/", undefined, new URL("http://proxy.corp:3128"));
 * ```
 */
export function createRoutedFetch(ca: readonly string[], env: (name: string) => string | undefined): RoutedFetch {
  const dispatchers = new Map<string, Promise<unknown>>();
  let trust: Promise<string[] | undefined> | undefined;
  const dispatcherFor = (proxy: URL | undefined) => {
    const key = proxy?.href ?? "direct";
    let dispatcher = dispatchers.get(key);
    if (!dispatcher) {
      dispatcher = (async () => {
        const [{ Agent, ProxyAgent }, certificates] = await Promise.all([import("undici"), trust ??= withDefaultTrust(ca, env)]);
        const tls = certificates ? { ca: certificates } : undefined;
        // Credentials in the proxy URL become its Proxy-Authorization header (undici decodes them).
        return proxy ? new ProxyAgent({ uri: proxy.href, requestTls: tls, proxyTls: tls }) : new Agent({ connect: tls });
      })();
      dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  };
  return async (input, init, proxy) => {
    if (!proxy && ca.length === 0) return await fetch(input, init);
    return await fetch(input, { ...init, dispatcher: await dispatcherFor(proxy) } as RequestInit);
  };
}
