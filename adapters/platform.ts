/**
 * The runtime as the core sees it: one {@link Platform} per process, built on first use from the adapters. Nothing
 * here touches a runtime API until a method is called.
 *
 * @module
 */

import type { CredentialStore, Logger, Platform, StorageOption } from "../src/contracts.ts";
import { openBrowser } from "./browser/open.ts";
import { keychainStore } from "./keychain.ts";
import { withLock } from "./lock.ts";
import { startLoopbackServer } from "./loopback.ts";
import { detectRuntime, type RuntimeKey } from "./runtime.ts";
import { readLine } from "./stdin.ts";
import { autoStore } from "./storage/auto.ts";
import { fileStore } from "./storage/file.ts";
import { memoryStore } from "./storage/memory.ts";
import { environmentSnapshot, readEnv, writeStderr } from "./system.ts";

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
    startLoopbackServer: (options) => startLoopbackServer(options),
    openBrowser: (url) => openBrowser(url),
    writeStderr,
    readLine,
    env: readEnv,
    environment: environmentSnapshot,
    createStore: (kind, options) => createStore(kind, options),
    withLock: (name, fn) => withLock(name, fn),
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
  switch (kind) {
    case "memory":
      return memoryStore();
    case "file":
      return fileStore({ service: options.service, logger: options.logger });
    case "keychain":
      return keychainStore({ service: options.service });
    default:
      return autoStore({ service: options.service, logger: options.logger });
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
