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
export { createPlatform, createStore, loadPlatform } from "./platform.ts";
export { createTransport } from "./transport.ts";
export type { RoutedFetch } from "./transport.ts";
export type { CreateTransport, TransportOptions } from "../src/transport.ts";
export type { ProxySetting } from "../src/transport/proxy_env.ts";
export type {
  CredentialStore,
  EnvironmentSnapshot,
  Logger,
  LoopbackServer,
  LoopbackServerOptions,
  Platform,
  StorageKind,
} from "../src/contracts.ts";
export { keychainStore } from "./keychain/mod.ts";
export { currentPlatform } from "./os.ts";
export type { KeychainBackend, KeychainStore, KeychainStoreOptions } from "./keychain/types.ts";
export {
  macosKeychainStore,
  parseSecurityPassword,
  quoteSecurityArgument,
  SECURITY_MAX_LINE,
  SECURITY_PATH,
} from "./keychain/macos.ts";
export type { MacosKeychainOptions } from "./keychain/macos.ts";
export { BUN_SECRETS_SCHEMA, linuxKeychainStore, SECRET_TOOL_MAX_BYTES } from "./keychain/linux.ts";
export type { LinuxKeychainOptions } from "./keychain/linux.ts";
export {
  CREDENTIAL_BLOB_MAX_BYTES,
  parsePowershellResult,
  POWERSHELL_ARGS,
  POWERSHELL_SCRIPT,
  POWERSHELL_TIMEOUT_MS,
  powershellInput,
  RESULT_MARKER,
  windowsKeychainStore,
} from "./keychain/windows.ts";
export type {
  CredentialEntry,
  CredentialOperation,
  CredentialRequest,
  CredentialResult,
  WindowsKeychainOptions,
} from "./keychain/windows.ts";
export { bunSecretsStore, getBunSecrets } from "./keychain/bun_secrets.ts";
export type { BunSecrets, BunSecretsStoreOptions } from "./keychain/bun_secrets.ts";
export { CREDENTIALS_FILE, fileStore } from "./storage/file.ts";
export type { FileStore, FileStoreOptions } from "./storage/file.ts";
export { memoryStore } from "./storage/memory.ts";
export { lazyStore } from "./storage/lazy.ts";
export type { MemoryStore } from "./storage/memory.ts";
export { autoStore } from "./storage/auto.ts";
export type { AutoStore, AutoStoreOptions } from "./storage/auto.ts";
export { DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_TIMEOUT_MS, lockFileName, withLock } from "./lock.ts";
export type { LockOptions } from "./lock.ts";
