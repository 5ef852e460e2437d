/**
 * Node's pieces (see `RuntimePieces`): `process` for the environment and stderr, `node:tty` and `node:fs` loaded on
 * first use, the `node:http` listener and the `undici` transport loaded on first call. Bun reuses all but the
 * listener and the transport.
 *
 * @module
 */

import type { RuntimePieces } from "../runtime_pieces.ts";

interface ProcessLike {
  env: Record<string, string | undefined>;
  stderr?: { write(text: string): boolean };
}

const nodeProcess = () => (globalThis as unknown as { process: ProcessLike }).process;

/** An environment variable; `undefined` when unset or unreadable. */
export function env(name: string): string | undefined {
  try {
    return nodeProcess().env[name];
  } catch {
    return undefined;
  }
}

/**
 * Node's pieces.
 *
 * @example Usage
 * ```ts
 * import { pieces } from "./mod.ts";
 * pieces.writeStderr(`${pieces.env("HOME")}\n`);
 * ```
 */
export const pieces: RuntimePieces = {
  listen: async (options) => (await import("./listener.ts")).listen(options),
  env,
  writeStderr(text) {
    try {
      nodeProcess().stderr?.write(text);
    } catch {
      // stderr closed: nothing to tell anyone.
    }
  },
  // isatty() rather than process.stdin, which would create a stdin stream just to ask.
  isTerminal: async (stream) => (await import("node:tty")).isatty(stream === "stdin" ? 0 : 2),
  readTextFile: async (path) => await (await import("node:fs/promises")).readFile(path, "utf8"),
  unrefTimer: (timer) => (timer as { unref?: () => void }).unref?.(),
  transport: {
    caVariable: "NODE_EXTRA_CA_CERTS",
    // Node's fetch never proxies by itself.
    readsProxyEnv: false,
    routedFetch: async (ca) => (await import("./transport.ts")).createRoutedFetch(ca, env),
  },
};
