/**
 * The runtime as the core sees it: a {@link Platform} built from the running runtime's pieces (`runtimes.ts`), the
 * terminal, the store registry, the browser opener, the lock and the transport. Everything below is loaded on first
 * use (literal paths, so compiled binaries include them): a CLI that only reads a stored token never loads the
 * listener, the browser opener or the stores it does not use.
 *
 * @module
 */

import type { FetchLike } from "../src/common/http.ts";
import type { Platform } from "../src/contracts.ts";
import { loadRuntime, type RuntimeKey } from "./runtimes.ts";
import { createStore } from "./storage/registry.ts";
import { createTerminal } from "./terminal.ts";

/**
 * Builds the platform of `runtime` from the adapters.
 *
 * @param runtime the runtime (default: detected)
 * @returns the platform
 *
 * @example Usage
 * ```ts
 * import { createPlatform } from "@x/cli-auth/adapters";
 * const platform = await createPlatform();
 * platform.terminal.writeStderr("hello\n");
 * ```
 */
export async function createPlatform(runtime?: RuntimeKey): Promise<Platform> {
  const pieces = await loadRuntime(runtime);
  return {
    listen: pieces.listen,
    openBrowser: async (url) => (await import("./browser/open.ts")).openBrowser(url),
    terminal: createTerminal(pieces),
    createStore,
    withLock: async (name, fn, options) => (await import("./lock.ts")).withLock(name, fn, options),
    createTransport: (options) => {
      let transport: Promise<FetchLike> | undefined;
      const load = () => transport ??= import("./transport.ts").then((module) => module.createTransport(options));
      return async (input, init) => await (await load())(input, init);
    },
  };
}

let platform: Promise<Platform> | undefined;

/**
 * The process's platform, built once.
 *
 * @returns the platform
 *
 * @example Usage
 * ```ts
 * import { loadPlatform } from "@x/cli-auth/adapters";
 * const platform = await loadPlatform();
 * ```
 */
export function loadPlatform(): Promise<Platform> {
  return platform ??= createPlatform();
}
