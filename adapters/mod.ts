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
export { detectRuntime } from "./runtimes.ts";
export type { RuntimeKey } from "./runtimes.ts";
export { createPlatform, loadPlatform } from "./platform.ts";
export { startLoopbackServer } from "./loopback.ts";
export type { LoopbackServer, LoopbackServerOptions } from "../src/login/loopback_server.ts";
export { openBrowser } from "./browser/open.ts";
export type { BrowserEnvironment, OpenBrowserOptions } from "./browser/open.ts";
export { runCommand } from "./subprocess.ts";
export type { CommandResult, CommandRunner, DetachedSpawner, RunOptions } from "./subprocess.ts";
export { createTransport } from "./transport.ts";
export type { ProxySetting } from "../src/transport/proxy_env.ts";
export type {
  CreateStore,
  CreateTransport,
  CredentialStore,
  EnvironmentSnapshot,
  Listen,
  Listener,
  ListenOptions,
  Logger,
  OpenBrowser,
  Platform,
  StorageKind,
  Terminal,
  TransportOptions,
  WithLock,
} from "../src/contracts.ts";
export { keychainStore } from "./keychain/mod.ts";
export type { KeychainBackend, KeychainStore, KeychainStoreOptions } from "./keychain/types.ts";
export { fileStore } from "./storage/file.ts";
export type { FileStore, FileStoreOptions } from "./storage/file.ts";
export { memoryStore } from "./storage/memory.ts";
export type { MemoryStore } from "./storage/memory.ts";
export { autoStore } from "./storage/auto.ts";
export type { AutoStore, AutoStoreOptions } from "./storage/auto.ts";
export { withLock } from "./lock.ts";
export type { LockOptions } from "./lock.ts";
