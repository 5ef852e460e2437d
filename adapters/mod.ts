/**
 * The runtime pieces of `@x/cli-auth`, for those who build their own flow: loopback listener, browser opening and
 * credential stores, on Deno, Bun and Node. Nothing here touches a runtime API at import time.
 *
 * @module
 */
export { detectRuntime } from "./runtime.ts";
export type { RuntimeKey } from "./runtime.ts";
export { DEFAULT_COMMAND_TIMEOUT_MS, runCommand, spawnDetached } from "./subprocess.ts";
export type { CommandResult, CommandRunner, DetachedSpawner, RunOptions } from "./subprocess.ts";
export type { CredentialStore, Logger, StorageKind } from "../src/contracts.ts";
export { CREDENTIALS_FILE, fileStore } from "./storage/file.ts";
export type { FileStore, FileStoreOptions } from "./storage/file.ts";
export { memoryStore } from "./storage/memory.ts";
export type { MemoryStore } from "./storage/memory.ts";
export { DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_TIMEOUT_MS, lockFileName, withLock } from "./lock.ts";
export type { LockOptions } from "./lock.ts";
