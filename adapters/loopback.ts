/**
 * The loopback listener of `@x/cli-auth/adapters`: the core's {@link startLoopbackServer} on this runtime's
 * listener (Deno, Bun or Node, from `runtimes.ts`).
 *
 * @module
 */

import type { Listen } from "../src/contracts.ts";
import {
  type LoopbackServer,
  type LoopbackServerOptions,
  startLoopbackServer as startOn,
} from "../src/login/loopback_server.ts";
import { loadRuntime } from "./runtimes.ts";

/**
 * Starts the loopback listener for one login on this runtime and returns its redirect URI (see the core's
 * `startLoopbackServer` for the checks). Ports are tried in order; 0 (the default) lets the OS pick a free one.
 *
 * @param options host, port(s), callback path, this login's state, validation, pages, a cancel signal; `listen` to
 * use another listener than the runtime's
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
export async function startLoopbackServer(options: LoopbackServerOptions & { listen?: Listen }): Promise<LoopbackServer> {
  return await startOn({ ...options, listen: options.listen ?? (await loadRuntime()).listen });
}
