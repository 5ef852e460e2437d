/**
 * The `fetch` every request of the library goes through, the same on Deno, Bun and Node: the proxy chosen per
 * request by curl's rules (`proxyForUrl`: the `proxy` option or `HTTPS_PROXY` / `HTTP_PROXY`, `NO_PROXY`, loopback
 * never), extra CAs trusted besides the default ones, and the failures a person can act on (untrusted certificate,
 * refused tunnel) turned into `network_error` with a hint. Without a proxy or a CA it is the runtime's own `fetch`:
 * the per-runtime modules (and, on Node, `undici`) are loaded only when a request needs them.
 *
 * @module
 */

import type { FetchLike } from "../src/common/http.ts";
import type { CreateTransport, TransportOptions } from "../src/contracts.ts";
import { proxyForUrl } from "../src/transport/proxy_env.ts";
import type { RoutedFetch } from "./runtime_pieces.ts";
import { loadRuntime } from "./runtimes.ts";

/** The variables a runtime that `readsProxyEnv` (Bun, Deno) reads proxies from: its `fetch` then proxies unless told otherwise. */
const RUNTIME_PROXY_VARIABLES = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];

/**
 * Makes the library's `fetch` for the running runtime (see the module documentation). Give it to the server
 * verifier as `http.fetch` to get the same proxies and CAs there.
 *
 * @param options `proxy` (a URL, `false`, or the environment's by default) and `ca` (PEM, trusted besides the rest)
 * @returns a `fetch`
 * @throws {CliAuthError} from the returned fetch: `network_error` (untrusted certificate, tunnel refused, unreachable),
 * `invalid_options` (a proxy that is not an http(s) URL)
 *
 * @example Usage
 * ```ts
 * import { createTransport } from "@x/cli-auth/adapters";
 * import { createVerifier } from "@x/cli-auth/server";
 * const verifier = createVerifier({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   http: { fetch: createTransport({ proxy: "http://proxy.corp:3128" }) },
 * });
 * ```
 */
export function createTransport(options: TransportOptions = {}): FetchLike {
  const ca = typeof options.ca === "string" ? [options.ca] : [...(options.ca ?? [])];
  let routed: Promise<RoutedFetch> | undefined;
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const runtime = await loadRuntime();
    const proxy = proxyForUrl(url, { proxy: options.proxy, env: runtime.env });
    try {
      const runtimeWouldProxy = runtime.transport.readsProxyEnv && RUNTIME_PROXY_VARIABLES.some((name) => runtime.env(name));
      if (proxy === undefined && ca.length === 0 && !runtimeWouldProxy) return await globalThis.fetch(input, init);
      routed ??= runtime.transport.routedFetch(ca);
      return await (await routed)(input, init, proxy);
    } catch (error) {
      const { transportFailure } = await import("./transport/_failure.ts");
      throw transportFailure(error, { url, proxy, caVariable: runtime.transport.caVariable, signal: init?.signal ?? undefined });
    }
  };
}

// The contract it fulfils (a compile-time check).
createTransport satisfies CreateTransport;
