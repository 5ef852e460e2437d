/**
 * The loopback listener on Deno: `Deno.serve` already speaks `Request -> Response`.
 *
 * @module
 */
import { CLOSE_GRACE_MS, type Listen } from "../listener.ts";

interface DenoServer {
  shutdown(): Promise<void>;
  finished: Promise<void>;
}
interface DenoNamespace {
  serve(
    options: {
      hostname: string;
      port: number;
      onListen?: (addr: { port: number }) => void;
      onError?: (error: unknown) => Response;
    },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoServer;
}

/**
 * Serves `handler` on `hostname:port` with `Deno.serve`.
 *
 * @example Usage
 * ```ts
 * import { listen } from "@x/cli-auth/adapters/deno/listener";
 * const listener = await listen({ hostname: "127.0.0.1", port: 0, handler: () => new Response("hi") });
 * await listener.close();
 * ```
 */
export const listen: Listen = ({ hostname, port, handler }) => {
  const Deno = (globalThis as unknown as { Deno: DenoNamespace }).Deno;
  return new Promise((resolve, reject) => {
    let server: DenoServer | undefined;
    let closing: Promise<void> | undefined;
    const close = () =>
      closing ??= (async () => {
        const shutdown = server!.shutdown();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([shutdown, new Promise<void>((r) => (timer = setTimeout(r, CLOSE_GRACE_MS)))]);
        clearTimeout(timer);
        await shutdown.catch(() => {});
      })();
    try {
      server = Deno.serve(
        {
          hostname,
          port,
          onListen: (addr) => resolve({ port: addr.port, close }),
          onError: () => new Response("Internal error.\n", { status: 500 }),
        },
        handler,
      );
    } catch (error) {
      reject(error);
    }
  });
};
