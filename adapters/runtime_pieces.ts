/**
 * What a runtime's folder (`deno/`, `bun/`, `node/`) supplies to the runtime-neutral adapters: {@link RuntimePieces}.
 * Types only (nothing to load), apart from `runtimes.ts` (the table that loads the folders), so that no runtime module
 * imports the module that imports it.
 *
 * @module
 */

import type { Listen } from "../src/contracts.ts";

/**
 * A runtime's `fetch` with the route of one request decided: through `proxy`, or direct (`undefined`) even when the
 * runtime would read a proxy from the environment itself.
 *
 * @example Usage
 * ```ts
 * import type { RoutedFetch } from "./runtime_pieces.ts";
 * declare const routed: RoutedFetch;
 * await routed("https://auth.example.com/", undefined, new URL("http://proxy.corp:3128"));
 * ```
 */
export type RoutedFetch = (input: string | URL | Request, init: RequestInit | undefined, proxy: URL | undefined) => Promise<Response>;

/**
 * The pieces of one runtime. Reading a piece touches nothing; only calling it does (Node built-ins and the listener
 * module are loaded on first call).
 *
 * @example Usage
 * ```ts
 * import { loadRuntime } from "./runtimes.ts";
 * const runtime = await loadRuntime();
 * runtime.writeStderr(`HOME is ${runtime.env("HOME")}\n`);
 * ```
 */
export interface RuntimePieces {
  /** The loopback listener: serves a `Request -> Response` handler (see `Listen`). */
  listen: Listen;
  /** An environment variable; `undefined` when unset or not permitted (never throws). */
  env(name: string): string | undefined;
  /** Writes to stderr, synchronously where the runtime allows; never throws. */
  writeStderr(text: string): void;
  /** Whether stdin (fd 0) or stderr (fd 2) is a terminal. */
  isTerminal(stream: "stdin" | "stderr"): Promise<boolean>;
  /** Reads a text file (UTF-8). */
  readTextFile(path: string): Promise<string>;
  /** Lets a timer (what `setTimeout` / `setInterval` returned) not keep the process alive. */
  unrefTimer(timer: unknown): void;
  /** What the transport (`transport.ts`) needs to know and use on this runtime. */
  transport: {
    /** The variable naming extra CAs that this runtime trusts by itself (named in hints). */
    caVariable: string;
    /** Whether this runtime's `fetch` uses `HTTPS_PROXY` and the like by itself (then a direct request must say so). */
    readsProxyEnv: boolean;
    /** Makes the routed fetch trusting `ca` besides the default CAs (its module loaded on first call). */
    routedFetch(ca: readonly string[]): Promise<RoutedFetch>;
  };
}
