/**
 * The runtime as the core sees it: one {@link Platform} per process, built on first use from the adapters. Nothing
 * here touches a runtime API until a method is called.
 *
 * @module
 */

import type { CredentialStore, Logger, Platform, StorageOption } from "../src/contracts.ts";
import type { FetchLike } from "../src/common/http.ts";
import { detectRuntime, type RuntimeKey } from "./runtime.ts";
import { lazyStore } from "./storage/lazy.ts";
import { environmentSnapshot, readEnv, writeStderr } from "./system.ts";

// Every piece below is imported on first use (literal paths, so compiled binaries include them): a CLI that only
// reads a stored token never loads the listener, the browser opener or the stores it does not use.

/**
 * Builds the platform for `runtime` from the adapters.
 *
 * @param runtime the runtime (default: detected)
 * @returns the platform
 *
 * @example Usage
 * ```ts
 * import { createPlatform } from "@x/cli-auth/adapters";
 * const platform = createPlatform();
 * platform.writeStderr(`running on ${platform.runtime}\n`);
 * ```
 */
export function createPlatform(runtime: RuntimeKey = detectRuntime()): Platform {
  return {
    runtime,
    startLoopbackServer: async (options) => (await import("./loopback.ts")).startLoopbackServer(options),
    openBrowser: async (url) => (await import("./browser/open.ts")).openBrowser(url),
    writeStderr,
    readLine: async (prompt, signal) => (await import("./stdin.ts")).readLine(prompt, signal),
    env: readEnv,
    environment: environmentSnapshot,
    createStore: (kind, options) => createStore(kind, options),
    withLock: async (name, fn, options) => (await import("./lock.ts")).withLock(name, fn, options),
    createTransport: (options) => {
      let transport: Promise<FetchLike> | undefined;
      const load = () => transport ??= import("./transport.ts").then((module) => module.createTransport(options));
      return async (input, init) => await (await load())(input, init);
    },
  };
}

/**
 * The store `storage` names: `"auto"` (keychain, else the 0600 file with one warning), `"keychain"`, `"file"` or
 * `"memory"`.
 *
 * @param kind the store's name
 * @param options the service and where warnings go
 * @returns the store
 *
 * @example Usage
 * ```ts
 * import { createStore } from "@x/cli-auth/adapters";
 * const store = createStore("file", { service: "my-cli", logger: { warn: (m) => console.error(m) } });
 * ```
 */
export function createStore(
  kind: Exclude<StorageOption, CredentialStore>,
  options: { service: string; logger: Logger },
): CredentialStore {
  const { service, logger } = options;
  switch (kind) {
    case "memory":
      return lazyStore("memory", async () => (await import("./storage/memory.ts")).memoryStore());
    case "file":
      return lazyStore("file", async () => (await import("./storage/file.ts")).fileStore({ service, logger }));
    case "keychain":
      return lazyStore("keychain", async () => (await import("./keychain/mod.ts")).keychainStore({ service }));
    default:
      return lazyStore(undefined, async () => (await import("./storage/auto.ts")).autoStore({ service, logger }));
  }
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
  return platform ??= Promise.resolve(createPlatform());
}
