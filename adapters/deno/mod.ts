/**
 * Deno's pieces (see `RuntimePieces`): `Deno.env`, `Deno.stderr`, `Deno.stdin`, `Deno.readTextFile`, read when called;
 * the `Deno.serve` listener and the `Deno.createHttpClient` transport loaded on first call.
 *
 * @module
 */

import type { RuntimePieces } from "../runtime_pieces.ts";

interface DenoLike {
  unrefTimer(id: number): void;
  env: { get(name: string): string | undefined };
  stdin: { isTerminal(): boolean };
  stderr: { isTerminal(): boolean; writeSync(data: Uint8Array): number };
  readTextFile(path: string): Promise<string>;
}

const deno = () => (globalThis as unknown as { Deno: DenoLike }).Deno;

/**
 * Deno's pieces.
 *
 * @example Usage
 * ```ts
 * import { pieces } from "./mod.ts";
 * pieces.writeStderr(`${pieces.env("HOME")}\n`);
 * ```
 */
export const pieces: RuntimePieces = {
  listen: async (options) => (await import("./listener.ts")).listen(options),
  env(name) {
    try {
      return deno().env.get(name);
    } catch {
      // Not permitted (no --allow-env).
      return undefined;
    }
  },
  writeStderr(text) {
    try {
      const bytes = new TextEncoder().encode(text);
      let written = 0;
      while (written < bytes.length) written += deno().stderr.writeSync(bytes.subarray(written));
    } catch {
      // stderr closed: nothing to tell anyone.
    }
  },
  isTerminal: (stream) => Promise.resolve(deno()[stream].isTerminal()),
  readTextFile: (path) => deno().readTextFile(path),
  unrefTimer: (timer) => {
    if (typeof timer === "number") deno().unrefTimer(timer);
  },
  transport: {
    caVariable: "DENO_CERT",
    // Deno's fetch proxies by itself when the environment names a proxy.
    readsProxyEnv: true,
    routedFetch: async (ca) => (await import("./transport.ts")).createRoutedFetch(ca),
  },
};
