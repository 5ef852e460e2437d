/**
 * Node's routed fetch: Node's own `fetch` with an `undici` dispatcher, `ProxyAgent` for a proxy and `Agent` for extra
 * CAs, one per proxy, kept for the connections' reuse. Node's `fetch` reads no proxy from the environment, so a
 * direct request without extra CAs is the plain `fetch`. `undici` is imported on the first request that needs it.
 *
 * Also the trust both Node and Bun need (Bun's transport imports it from here): a CA list given to their TLS
 * REPLACES the default trust (checked: Node's `connect.ca` / `requestTls.ca`, Bun's `tls.ca` both drop
 * `NODE_EXTRA_CA_CERTS`), so the default is rebuilt around the extra CAs: the runtime's bundled roots, the
 * `NODE_EXTRA_CA_CERTS` file, then `ca`.
 *
 * @module
 */

import type { RoutedFetch } from "../runtime_pieces.ts";

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

/**
 * The bundled roots, the `NODE_EXTRA_CA_CERTS` file (when readable) and `ca`; `undefined` when `ca` is empty (the
 * runtime's default trust then applies as it is).
 *
 * @param ca the extra CAs (PEM)
 * @param env reads an environment variable (`NODE_EXTRA_CA_CERTS`)
 * @returns the CA list for TLS options
 */
export async function withDefaultTrust(
  ca: readonly string[],
  env: (name: string) => string | undefined,
): Promise<string[] | undefined> {
  if (ca.length === 0) return undefined;
  const [{ rootCertificates }, { readFileSync }] = await Promise.all([import("node:tls"), import("node:fs")]);
  const extra: string[] = [];
  const file = env("NODE_EXTRA_CA_CERTS");
  if (file) {
    try {
      extra.push(readFileSync(file, "utf8"));
    } catch {
      // The runtime warned about an unreadable file at start-up already.
    }
  }
  return [...rootCertificates, ...extra, ...ca];
}
