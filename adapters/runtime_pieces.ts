/**
 * What each runtime's folder supplies to the runtime-neutral adapters. The types live here, apart from the modules
 * that load the runtime folders, so that a runtime's module never imports the module that imports it.
 *
 * @module
 */

/**
 * A runtime's `fetch` with the route of one request decided: through `proxy`, or direct (`undefined`) even when the
 * runtime would read a proxy from the environment itself.
 *
 * @example Usage
 * ```ts
 * import type { RoutedFetch } from "@x/cli-auth/adapters";
 * declare const routed: RoutedFetch;
 * await routed("https://auth.example.com/", undefined, new URL("http://proxy.corp:3128"));
 * ```
 */
export type RoutedFetch = (input: string | URL | Request, init: RequestInit | undefined, proxy: URL | undefined) => Promise<Response>;
