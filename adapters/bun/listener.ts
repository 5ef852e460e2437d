/**
 * The loopback listener on Bun: `Bun.serve` already speaks `Request -> Response`.
 *
 * @module
 */
import type { Listen } from "../../src/contracts.ts";
import { CLOSE_GRACE_MS } from "../../src/login/loopback_server.ts";

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}
interface BunNamespace {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request) => Response | Promise<Response>;
    error?: (error: Error) => Response;
  }): BunServer;
}

/**
 * Serves `handler` on `hostname:port` with `Bun.serve`.
 *
 * @example Usage
 * ```ts
 * import { listen } from "./listener.ts";
 * const listener = await listen({ hostname: "127.0.0.1", port: 0, handler: () => new Response("hi") });
 * await listener.close();
 * ```
 */
export const listen: Listen = ({ hostname, port, handler }) => {
  const Bun = (globalThis as unknown as { Bun: BunNamespace }).Bun;
  const server = Bun.serve({
    hostname,
    port,
    fetch: handler,
    error: () => new Response("Internal error.\n", { status: 500 }),
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      // Graceful first: Bun's stop(false) resolves once the requests in flight are answered (idle keep-alive
      // connections are dropped at once); a response that takes longer than the grace period is cut.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.resolve(server.stop(false)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
      ]);
      clearTimeout(timer);
      await server.stop(true);
    })();
  return Promise.resolve({ port: server.port, close });
};
