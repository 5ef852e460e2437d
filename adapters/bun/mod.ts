/**
 * Bun's pieces (see `RuntimePieces`): Node's (Bun implements `process`, `node:tty`, `node:fs`), except the listener
 * (`Bun.serve`) and the transport (Bun's `fetch` options), each loaded on first call.
 *
 * @module
 */

import { env, pieces as node } from "../node/mod.ts";
import type { RuntimePieces } from "../runtime_pieces.ts";

/**
 * Bun's pieces.
 *
 * @example Usage
 * ```ts
 * import { pieces } from "./mod.ts";
 * const listener = await pieces.listen({ hostname: "127.0.0.1", port: 0, handler: () => new Response("hi") });
 * await listener.close();
 * ```
 */
export const pieces: RuntimePieces = {
  ...node,
  listen: async (options) => (await import("./listener.ts")).listen(options),
  transport: {
    caVariable: "NODE_EXTRA_CA_CERTS",
    // Bun's fetch proxies by itself when the environment names a proxy.
    readsProxyEnv: true,
    routedFetch: async (ca) => (await import("./transport.ts")).createRoutedFetch(ca, env),
  },
};
