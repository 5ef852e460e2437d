/**
 * Bun's routed fetch: Bun's `fetch` with `proxy` (a URL, or `false`: checked, Bun then ignores `HTTPS_PROXY`, where
 * an absent or empty `proxy` reads it) and `tls.ca`.
 *
 * @module
 */

import type { RoutedFetch } from "../runtime_pieces.ts";
import { withDefaultTrust } from "../node/transport.ts";

/**
 * Makes Bun's routed fetch.
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
  let trust: Promise<string[] | undefined> | undefined;
  return async (input, init, proxy) => {
    const certificates = await (trust ??= withDefaultTrust(ca, env));
    const options = { ...init, proxy: proxy ? proxy.href : false, ...(certificates ? { tls: { ca: certificates } } : {}) };
    return await fetch(input, options as RequestInit);
  };
}
