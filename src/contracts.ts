/**
 * The seams between the core and the runtime adapters: the only types `src/` and `adapters/` share.
 *
 * @module
 */

import type { CallbackPageRenderer } from "./login/pages.ts";
import type { CreateTransport } from "./transport.ts";

/**
 * Where sessions are kept: async, string values, keyed by account (the profile name). One store serves one
 * `service` (the keychain service / config folder name).
 *
 * @example A store of your own
 * ```ts
 * import type { CredentialStore } from "@x/cli-auth";
 * const values = new Map<string, string>();
 * const store: CredentialStore = {
 *   get: async (key) => values.get(key) ?? null,
 *   set: async (key, value) => void values.set(key, value),
 *   delete: async (key) => void values.delete(key),
 * };
 * ```
 */
export interface CredentialStore {
  /** The stored value, or `null` when there is none. */
  get(key: string): Promise<string | null>;
  /** Stores `value`, replacing any previous one. */
  set(key: string, value: string): Promise<void>;
  /** Removes the value; no error when there is none. */
  delete(key: string): Promise<void>;
  /** What kind of store this is, for `status()`; `"custom"` when absent. */
  readonly kind?: StorageKind;
}

/**
 * The kinds of store `status()` reports.
 *
 * @example Usage
 * ```ts
 * import type { StorageKind } from "@x/cli-auth";
 * const kind: StorageKind = "keychain";
 * ```
 */
export type StorageKind = "keychain" | "file" | "memory" | "custom";

/**
 * Where the library's few warnings go (default: stderr).
 *
 * @example Usage
 * ```ts
 * import type { Logger } from "@x/cli-auth";
 * const quiet: Logger = { warn: () => {} };
 * ```
 */
export interface Logger {
  /** Receives one warning, a human sentence without secrets (e.g. that the session fell back to a file). */
  warn(message: string): void;
}

/**
 * Options of the loopback listener (`startLoopbackServer`).
 *
 * @example Usage
 * ```ts
 * import type { LoopbackServerOptions } from "@x/cli-auth";
 * const options: LoopbackServerOptions = { state: "xyz", port: [53682, 53683], callbackPath: "/callback" };
 * ```
 */
export interface LoopbackServerOptions {
  /** `"127.0.0.1"` (default) or `"::1"`. */
  host?: string;
  /** A port, or ports to try in order; 0 (default) picks a free one. */
  port?: number | readonly number[];
  /** The redirect URI's path (default `/callback`). */
  callbackPath?: string;
  /** Cancels the wait and closes the listener; `waitForCallback()` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** This login's `state`: callbacks without it are answered with an error page and ignored. */
  state: string;
  /** Validates a callback with the right state; throw a `CliAuthError` to end the login with it. */
  validate?: (params: URLSearchParams) => URLSearchParams;
  /** Renders the success and error pages. */
  renderPage?: CallbackPageRenderer;
}

/**
 * A running loopback listener.
 *
 * @example Usage
 * ```ts
 * import type { LoopbackServer } from "@x/cli-auth";
 * async function code(server: LoopbackServer) { return (await server.waitForCallback()).get("code"); }
 * ```
 */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port><callbackPath>` (or `http://[::1]:…`). */
  readonly redirectUri: string;
  /** The bound port. */
  readonly port: number;
  /** Resolves with the callback's parameters after the browser got its page and the listener closed. */
  waitForCallback(): Promise<URLSearchParams>;
  /** Closes the listener now; a pending `waitForCallback()` rejects with `login_cancelled`. */
  close(): Promise<void>;
}

/**
 * What `flow: "auto"` looks at: a snapshot of the environment, so the decision is a pure function.
 *
 * @example Usage
 * ```ts
 * import type { EnvironmentSnapshot } from "@x/cli-auth";
 * const desktop: EnvironmentSnapshot = { os: "darwin", env: {}, stdinIsTTY: true, stderrIsTTY: true, wsl: false };
 * ```
 */
export interface EnvironmentSnapshot {
  /** The operating system. */
  os: "darwin" | "linux" | "windows" | "other";
  /** The environment variables that matter (`SSH_CONNECTION`, `SSH_TTY`, `DISPLAY`, `WAYLAND_DISPLAY`, `CI`, …). */
  env: Record<string, string | undefined>;
  /** Whether stdin is a terminal. */
  stdinIsTTY: boolean;
  /** Whether stderr is a terminal. */
  stderrIsTTY: boolean;
  /** Whether this is Windows Subsystem for Linux. */
  wsl: boolean;
}

/**
 * Which stores `storage` names.
 *
 * @example Usage
 * ```ts
 * import type { StorageOption } from "@x/cli-auth";
 * const storage: StorageOption = "auto";
 * ```
 */
export type StorageOption = "auto" | "keychain" | "file" | "memory" | CredentialStore;

/**
 * Options of a cross-process lock ({@link Platform.withLock}, and `CliAuth`'s `lock` option for its refresh lock).
 * While its work runs, the holder renews the lock every `staleMs / 3`; only a lock not renewed for `staleMs` (its
 * holder frozen or gone) is taken over.
 *
 * @example Usage
 * ```ts
 * import type { LockOptions } from "@x/cli-auth";
 * const options: LockOptions = { dir: "/home/me/.cache/my-cli", staleMs: 60_000, timeoutMs: 70_000 };
 * ```
 */
export interface LockOptions {
  /**
   * The folder of the lock file, created (`0700`) if missing. Default (the adapters): `cli-auth` in
   * `$XDG_RUNTIME_DIR` when set and the user's own, else in the user's cache folder (`$XDG_CACHE_HOME` or
   * `~/.cache`, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows), made private and refused when another
   * user owns it.
   */
  dir?: string;
  /** A lock not renewed for this long is taken over, even if its owner still runs (default 60 000 ms). */
  staleMs?: number;
  /** Give up waiting after this long with a `timeout` error (default 70 000 ms, at least `staleMs` + 10 s). */
  timeoutMs?: number;
}

/**
 * Everything the core needs from the runtime, supplied by `adapters/`. Override it (the `platform` option) to run
 * the core somewhere else or to fake the world in tests.
 *
 * @example Usage
 * ```ts
 * import type { Platform } from "@x/cli-auth";
 * declare const platform: Platform;
 * platform.writeStderr("hello\n");
 * ```
 */
export interface Platform {
  /** `"deno"`, `"bun"`, `"node"` or your own name. */
  readonly runtime: string;
  /** Starts the loopback listener of a browser login. */
  startLoopbackServer(options: LoopbackServerOptions): Promise<LoopbackServer>;
  /** Opens `url` in the user's browser; resolves false when it could not. Never throws. */
  openBrowser(url: string): Promise<boolean>;
  /** Writes to stderr (prompts, the URL, the device code). */
  writeStderr(text: string): void;
  /** Prints `prompt` on stderr and reads one line from stdin. */
  readLine(prompt: string, signal?: AbortSignal): Promise<string>;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** The snapshot `flow: "auto"` decides on. */
  environment(): Promise<EnvironmentSnapshot>;
  /** Creates the named store for `service`. */
  createStore(kind: Exclude<StorageOption, CredentialStore>, options: { service: string; logger: Logger }): CredentialStore;
  /** Runs `fn` holding a cross-process lock named `name`, with the lock's folder, lease and timeout in `options`. */
  withLock<T>(name: string, fn: () => Promise<T>, options?: LockOptions): Promise<T>;
  /** Makes the `fetch` requests go through (proxies, extra CAs); without it, the global `fetch` is used. */
  createTransport?: CreateTransport;
}
