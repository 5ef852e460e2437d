/**
 * The runtime as the core sees it: one {@link Platform} per process, built on first use from the adapters. Nothing
 * here touches a runtime API until a method is called.
 *
 * @module
 */

import type { CredentialStore, Logger, Platform, StorageOption } from "../src/contracts.ts";
import { CliAuthError } from "../src/errors.ts";
import { openBrowser } from "./browser/open.ts";
import { startLoopbackServer } from "./loopback.ts";
import { detectRuntime, type RuntimeKey } from "./runtime.ts";
import { readLine } from "./stdin.ts";
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
    withLock: (_name, fn) => fn(),
  };
}

function createStore(
  kind: Exclude<StorageOption, CredentialStore>,
  _options: { service: string; logger: Logger },
): CredentialStore {
  if (kind === "memory") {
    const values = new Map<string, string>();
    return {
      kind: "memory",
      get: (key) => Promise.resolve(values.get(key) ?? null),
      set: (key, value) => Promise.resolve(void values.set(key, value)),
      delete: (key) => Promise.resolve(void values.delete(key)),
    };
  }
  throw new CliAuthError("storage_unavailable", `The "${kind}" store is not available yet`, {
    hint: 'Use `storage: "memory"` or a CredentialStore of your own',
  });
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
