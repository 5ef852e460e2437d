/**
 * Bun's routed fetch: Bun's `fetch` with `proxy` (a URL, or `false`: checked, Bun then ignores `HTTPS_PROXY`, where
 * an absent or empty `proxy` reads it) and `tls.ca`.
 *
 * @module
 */

import type { RoutedFetch } from "../runtime_pieces.ts";
import { withDefaultTrust } from "./_default_trust.ts";

/**
 * Makes Bun's routed fetch.
 *
 * @param ca the extra CAs (PEM)
 * @returns the routed fetch
 *
 * @example Usage
 * ```ts
 * import { createRoutedFetch } from "./bun.ts";
 * const routed = createRoutedFetch([]);
 * const response = await routed("https://auth.example.com/", undefined, new URL("http://proxy.corp:3128"));
 * ```
 */
export function createRoutedFetch(ca: readonly string[]): RoutedFetch {
  let trust: Promise<string[] | undefined> | undefined;
  return async (input, init, proxy) => {
    const certificates = await (trust ??= withDefaultTrust(ca));
    const options = { ...init, proxy: proxy ? proxy.href : false, ...(certificates ? { tls: { ca: certificates } } : {}) };
    return await fetch(input, options as RequestInit);
  };
}
