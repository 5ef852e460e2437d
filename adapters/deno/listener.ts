/**
 * The loopback listener on Deno: `Deno.serve` already speaks `Request -> Response`.
 *
 * @module
 */
import type { Listen } from "../../src/contracts.ts";
import { CLOSE_GRACE_MS } from "../../src/login/loopback_server.ts";

interface DenoServer {
  shutdown(): Promise<void>;
  finished: Promise<void>;
  unref(): void;
}
interface DenoNamespace {
  serve(
    options: {
      hostname: string;
      port: number;
      signal?: AbortSignal;
      onListen?: (addr: { port: number }) => void;
      onError?: (error: unknown) => Response;
    },
    handler: (request: Request, info: { completed?: Promise<void> }) => Response | Promise<Response>,
  ): DenoServer;
}

/** Resolves true when `promise` settles within `ms`, false otherwise; the timer never outlives the wait. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Serves `handler` on `hostname:port` with `Deno.serve`.
 *
 * Closing waits (briefly) for the responses in flight, then closes the server and every connection at once:
 * `shutdown()` alone would wait for as long as any client keeps a connection busy (Deno reads an unread request
 * body to its end), and the forced close cannot follow a started `shutdown()`.
 *
 * @example Usage
 * ```ts
 * import { listen } from "./listener.ts";
 * const listener = await listen({ hostname: "127.0.0.1", port: 0, handler: () => new Response("hi") });
 * await listener.close();
 * ```
 */
export const listen: Listen = ({ hostname, port, handler }) => {
  const Deno = (globalThis as unknown as { Deno: DenoNamespace }).Deno;
  return new Promise((resolve, reject) => {
    let server: DenoServer | undefined;
    let closing: Promise<void> | undefined;
    const abort = new AbortController();
    const inFlight = new Set<Promise<unknown>>();
    const close = () =>
      closing ??= (async () => {
        await settlesWithin(Promise.all(inFlight), CLOSE_GRACE_MS);
        abort.abort();
        // Should the server still not finish, it must not keep the process alive.
        if (!(await settlesWithin(server!.finished, CLOSE_GRACE_MS))) server!.unref();
      })();
    try {
      server = Deno.serve(
        {
          hostname,
          port,
          signal: abort.signal,
          onListen: (addr) => resolve({ port: addr.port, close }),
          onError: () => new Response("Internal error.\n", { status: 500 }),
        },
        (request, info) => {
          const completed = info.completed;
          if (completed) {
            const tracked = completed.catch(() => {}).finally(() => inFlight.delete(tracked));
            inFlight.add(tracked);
          }
          return handler(request);
        },
      );
    } catch (error) {
      reject(error);
    }
  });
};
