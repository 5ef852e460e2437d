/**
 * The runtime pieces of `@x/cli-auth`, for those who build their own flow: loopback listener, browser opening and
 * credential stores, on Deno, Bun and Node. Nothing here touches a runtime API at import time.
 *
 * @example Usage
 * ```ts
 * import { openBrowser, startLoopbackServer } from "@x/cli-auth/adapters";
 * const server = await startLoopbackServer({ state: "xyz" });
 * await openBrowser(`https://auth.example.com/authorize?redirect_uri=${encodeURIComponent(server.redirectUri)}`);
 * ```
 *
 * @module
 */
export { detectRuntime } from "./runtime.ts";
export type { RuntimeKey } from "./runtime.ts";
export { DEFAULT_COMMAND_TIMEOUT_MS, runCommand, spawnDetached } from "./subprocess.ts";
export type { CommandResult, CommandRunner, DetachedSpawner, RunOptions } from "./subprocess.ts";
export { loadListen, startLoopbackServer } from "./loopback.ts";
export { CLOSE_GRACE_MS, isAddressInUse } from "./listener.ts";
export type { Listen, Listener, ListenOptions } from "./listener.ts";
export { browserCommands, currentBrowserEnvironment, openBrowser } from "./browser/open.ts";
export type { BrowserCommand, BrowserEnvironment, OpenBrowserOptions } from "./browser/open.ts";
export { currentOs, environmentSnapshot, isWsl, readEnv, writeStderr } from "./system.ts";
export { readLine } from "./stdin.ts";
export { createPlatform, loadPlatform } from "./platform.ts";
export type {
  CredentialStore,
  EnvironmentSnapshot,
  Logger,
  LoopbackServer,
  LoopbackServerOptions,
  Platform,
  StorageKind,
} from "../src/contracts.ts";
