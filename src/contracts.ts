/**
 * The seam between the core and the runtime: small function types, each one job (in the manner of Hono's
 * `GetConnInfo`), and {@link Platform}, the plain record of them that `CliAuth` is given. `adapters/` implements them
 * for Deno, Bun and Node; a test or another runtime may supply its own. The core (`src/`) only calls them.
 *
 * @module
 */

import type { FetchLike } from "./common/http.ts";
import type { ProxySetting } from "./transport/proxy_env.ts";

/**
 * Options of a {@link Listen} call.
 *
 * @example Usage
 * ```ts
 * import type { ListenOptions } from "@x/cli-auth";
 * const options: ListenOptions = { hostname: "127.0.0.1", port: 0, handler: () => new Response("ok") };
 * ```
 */
export interface ListenOptions {
  /** `127.0.0.1` or `::1`. */
  hostname: string;
  /** The port; 0 picks a free one. */
  port: number;
  /** Answers each request. */
  handler: (request: Request) => Response | Promise<Response>;
}

/**
 * A listening server.
 *
 * @example Usage
 * ```ts
 * import type { Listener } from "@x/cli-auth";
 * async function stop(listener: Listener) { await listener.close(); }
 * ```
 */
export interface Listener {
  /** The port actually bound. */
  readonly port: number;
  /** Stops listening, lets a response in flight finish (briefly), then ends every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a listener. Rejects with an error whose `code` is `"EADDRINUSE"` when the port is taken.
 *
 * @example Usage
 * ```ts
 * import type { Listen } from "@x/cli-auth";
 * declare const listen: Listen;
 * const listener = await listen({ hostname: "127.0.0.1", port: 0, handler: () => new Response("hi") });
 * await listener.close();
 * ```
 */
export type Listen = (options: ListenOptions) => Promise<Listener>;

/**
 * Opens `url` in the user's browser; resolves `false` when it could not. Never throws.
 *
 * @example Usage
 * ```ts
 * import type { OpenBrowser } from "@x/cli-auth";
 * const printOnly: OpenBrowser = (url) => {
 *   console.error(url);
 *   return Promise.resolve(false);
 * };
 * ```
 */
export type OpenBrowser = (url: string) => Promise<boolean>;

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
 * The user's terminal and environment: where prompts go, where a pasted line comes from, the environment variables,
 * and the snapshot `flow: "auto"` decides on.
 *
 * @example Usage
 * ```ts
 * import type { Terminal } from "@x/cli-auth";
 * declare const terminal: Terminal;
 * terminal.writeStderr("Waiting for the browser…\n");
 * ```
 */
export interface Terminal {
  /** Writes to stderr, synchronously where the runtime allows (prompts, the URL, the device code). */
  writeStderr(text: string): void;
  /** Prints `prompt` on stderr and reads one line from stdin; rejects with the signal's reason when cancelled. */
  readLine(prompt: string, signal?: AbortSignal): Promise<string>;
  /** Reads an environment variable; `undefined` when unset or not permitted. */
  env(name: string): string | undefined;
  /** The snapshot `flow: "auto"` decides on. */
  environment(): Promise<EnvironmentSnapshot>;
}

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
 * The kinds of store `status()` reports: the built-in ones, `"custom"` for a store passed as `storage`, or the name
 * another store gives itself.
 *
 * @example Usage
 * ```ts
 * import type { StorageKind } from "@x/cli-auth";
 * const kind: StorageKind = "keychain";
 * ```
 */
// `string & {}`: any name, with the built-in ones still offered by editors.
// deno-lint-ignore ban-types
export type StorageKind = "keychain" | "file" | "memory" | "custom" | (string & {});

/**
 * What the `storage` option takes: the name of a store the platform knows (`"auto"`, `"keychain"`, `"file"`,
 * `"memory"`, or one the platform adds), or a store.
 *
 * @example Usage
 * ```ts
 * import type { StorageOption } from "@x/cli-auth";
 * const storage: StorageOption = "auto";
 * ```
 */
// deno-lint-ignore ban-types
export type StorageOption = "auto" | "keychain" | "file" | "memory" | (string & {}) | CredentialStore;

/**
 * Makes the store a `storage` name stands for, for `service`; it loads nothing until the store is used. An unknown
 * name throws `invalid_options`.
 *
 * @example Usage
 * ```ts
 * import type { CreateStore, CredentialStore } from "@x/cli-auth";
 * declare const memory: CredentialStore;
 * const createStore: CreateStore = (name) => memory;
 * ```
 */
export type CreateStore = (name: string, options: { service: string; logger: Logger }) => CredentialStore;

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
 * Options of a cross-process lock ({@link WithLock}, and `CliAuth`'s `lock` option for its refresh lock).
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
 * Runs `fn` holding the cross-process lock `name`, with the lock's folder, lease and timeout in `options`.
 *
 * @example Usage
 * ```ts
 * import type { WithLock } from "@x/cli-auth";
 * const unlocked: WithLock = (_name, fn) => fn();
 * ```
 */
export type WithLock = <T>(name: string, fn: () => Promise<T>, options?: LockOptions) => Promise<T>;

/**
 * How requests reach the network.
 *
 * @example Usage
 * ```ts
 * import type { TransportOptions } from "@x/cli-auth";
 * const options: TransportOptions = { proxy: "http://proxy.corp:3128", ca: "-----BEGIN CERTIFICATE-----\n…" };
 * ```
 */
export interface TransportOptions {
  /** A proxy URL (credentials allowed), `false` for none; default: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`. */
  proxy?: ProxySetting;
  /** CA certificates (PEM) trusted besides the system's and the runtime's own setting. */
  ca?: string | readonly string[];
}

/**
 * Makes the `fetch` the library's requests go through, for the running runtime: loopback always direct, the proxy
 * chosen per request (`proxyForUrl`), the CAs trusted besides the default ones, and untrusted certificates or a
 * refused tunnel reported as `network_error` with a hint.
 *
 * @example Usage
 * ```ts
 * import type { CreateTransport } from "@x/cli-auth";
 * const direct: CreateTransport = () => (input, init) => fetch(input, init);
 * const response = await direct({ proxy: false })("https://auth.example.com/.well-known/openid-configuration");
 * ```
 */
export type CreateTransport = (options?: TransportOptions) => FetchLike;

/**
 * Everything the core needs from the runtime, supplied by `adapters/` (`loadPlatform()`): a plain record of the
 * pieces above. Override it (the `platform` option) to run the core somewhere else or to fake the world in tests.
 *
 * @example Usage
 * ```ts
 * import type { Platform } from "@x/cli-auth";
 * declare const real: Platform;
 * const quiet: Platform = { ...real, terminal: { ...real.terminal, writeStderr: () => {} } };
 * ```
 */
export interface Platform {
  /** Serves the loopback listener of a browser login. */
  listen: Listen;
  /** Opens the browser. */
  openBrowser: OpenBrowser;
  /** Stderr, stdin, environment variables and the environment snapshot. */
  terminal: Terminal;
  /** Makes the store a `storage` name stands for. */
  createStore: CreateStore;
  /** The cross-process lock (the refresh lock). */
  withLock: WithLock;
  /** Makes the `fetch` requests go through (proxies, extra CAs); without it, the global `fetch` is used. */
  createTransport?: CreateTransport;
}
