/**
 * `CliAuth`: the orchestration a CLI uses — login, tokens, identity, logout — over the protocol functions and a
 * {@link Platform} supplied by the adapters. It does no I/O of its own.
 *
 * @module
 */

// Only what handing out a stored token needs is imported here (not even oauth4webapi): discovery, login flows,
// refresh, revocation, userinfo, auth.fetch, DPoP keys and registration are imported on first use, so that
// `import "@x/cli-auth"` costs next to nothing and the fresh-token path loads no protocol code at all.
import type { AuthenticatedFetchSession } from "./api/authenticated_fetch.ts";
import type { GrantResult } from "./protocol/code_exchange.ts";
import type { CredentialStore, LockOptions, Logger, Platform, StorageKind, StorageOption } from "./contracts.ts";
import type { DeviceCodeInfo } from "./login/device_login.ts";
import type { AuthorizationServer, ServerEndpoints } from "./common/discovery.ts";
import type { StoredDpopKey } from "./protocol/dpop.ts";
import { CliAuthError, isCliAuthError } from "./common/errors.ts";
import type { FetchLike, HttpOptions } from "./common/http.ts";
import { checkProfile, checkService } from "./names.ts";
import type { DPoPHandle } from "./protocol/oauth_types.ts";
import type { CallbackPageRenderer } from "./login/pages.ts";
import type { ProtocolContext } from "./protocol/protocol_context.ts";
import { parseSession, serializeSession, type Session, type User, userFromClaims } from "./session/session.ts";
import type { TokenSet } from "./protocol/token_set.ts";
import { DEFAULT_REFRESH_SKEW_SECONDS, isFresh } from "./session/token_freshness.ts";
import type { UserInfo } from "./protocol/userinfo.ts";

/** The scopes asked for when `scopes` is not given. */
export const DEFAULT_SCOPES: readonly string[] = ["openid", "profile", "email", "offline_access"];

/**
 * Options of {@link CliAuth}. See the README for provider recipes.
 *
 * @example Usage
 * ```ts
 * import type { CliAuthOptions } from "@x/cli-auth";
 * const options: CliAuthOptions = { issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" };
 * ```
 */
export interface CliAuthOptions {
  /** The issuer; discovery finds the endpoints (OpenID Connect, then RFC 8414). */
  issuer?: string;
  /** The public client registered for the CLI. */
  clientId?: string;
  /** Names the keychain entry and the config folder. */
  service: string;
  /** Scopes to ask for (default `openid profile email offline_access`). */
  scopes?: readonly string[];
  /** Endpoints by hand; with `token` set there is no discovery (GitHub). */
  endpoints?: ServerEndpoints;
  /** Only for providers that issue non-secret "installed app" secrets. */
  clientSecret?: string;
  /** `"auto"` (default: keychain, else a 0600 file with one warning), `"keychain"`, `"file"`, `"memory"`, or a store. */
  storage?: StorageOption;
  /** Keeps several accounts side by side (default `"default"`). */
  profile?: string;
  /** The environment variable `resolveToken()` reads. */
  tokenEnvVar?: string;
  /** Your API's identity route; `whoami()` uses it when set, else userinfo. */
  identityEndpoint?: string;
  /**
   * Refresh when the access token expires within this many seconds (default 30), but never before half its lifetime
   * as issued has passed (a 20-s token is refreshed 10 s before it expires).
   */
  refreshSkewSeconds?: number;
  /** Per HTTP request, in ms (default 30 000). */
  timeoutMs?: number;
  /** RFC 8707 resource indicator(s). */
  resource?: string | readonly string[];
  /** Permit `http://` issuers (local development and tests only). */
  allowInsecureRequests?: boolean;
  /** A custom `fetch` (instrumentation, a transport of your own); then `proxy` and `ca` do not apply. */
  fetch?: FetchLike;
  /**
   * The HTTP(S) proxy for every request, e.g. `"http://user:password@proxy.corp:3128"`; `false` for none. Default:
   * `HTTPS_PROXY` / `HTTP_PROXY` and `NO_PROXY` as curl reads them. Loopback never goes through a proxy.
   */
  proxy?: string | false;
  /** CA certificates (PEM) to trust besides the system's (and `NODE_EXTRA_CA_CERTS` / `DENO_CERT`). */
  ca?: string | readonly string[];
  /** Where the library's few warnings go (default: stderr). */
  logger?: Logger;
  /** The runtime pieces (default: the adapters for Deno, Bun or Node). */
  platform?: Platform | (() => Promise<Platform>);
  /**
   * RFC 9449: bind the session's tokens to a key pair made at login and kept only in the stored session. Every
   * token, refresh, userinfo and `auth.fetch` request then carries a DPoP proof.
   */
  dpop?: boolean;
  /** Origins `auth.fetch` may send the token to (default: the `resource` origins, else the `identityEndpoint` origin). */
  apiOrigins?: readonly string[];
  /** How hints tell the user to log in (default `` `<service> login` ``). */
  loginCommand?: string;
  /** The clock, epoch ms (default `Date.now`); for tests. */
  now?: () => number;
  /**
   * The cross-process refresh lock: its folder (default: `$XDG_RUNTIME_DIR/cli-auth` when set and the user's own,
   * else `cli-auth` in the user's cache folder), after how long without renewal a holder counts as gone (`staleMs`,
   * default 60 000; a live holder renews its lock every `staleMs / 3`), and how long to wait for it (`timeoutMs`,
   * default 70 000, then `timeout`).
   */
  lock?: LockOptions;
}

/**
 * Options of {@link CliAuth.getAccessToken}.
 *
 * @example Usage
 * ```ts
 * import type { GetAccessTokenOptions } from "@x/cli-auth";
 * const options: GetAccessTokenOptions = { forceRefresh: true };
 * ```
 */
export interface GetAccessTokenOptions {
  /** Refresh even if the stored token is still fresh (e.g. after the API answered 401). */
  forceRefresh?: boolean;
  /** Cancels a refresh. */
  signal?: AbortSignal;
}

/**
 * What `logout()` reports.
 *
 * @example Usage
 * ```ts
 * import type { LogoutResult } from "@x/cli-auth";
 * const line = (r: LogoutResult) => (r.revoked ? "Logged out" : "Logged out here; the server was not told");
 * ```
 */
export interface LogoutResult {
  /** Whether the server confirmed the revocation (RFC 7009). */
  revoked: boolean;
  /** Whether there was a session to clear. */
  hadSession: boolean;
}

/**
 * What `resolveToken()` returns: the token and where it came from.
 *
 * @example Usage
 * ```ts
 * import type { ResolvedToken } from "@x/cli-auth";
 * const describe = (t: ResolvedToken) => `using a token from ${t.source}`;
 * ```
 */
export interface ResolvedToken {
  /** The token to send: the argument or environment variable (trimmed), or a valid access token of the login. */
  token: string;
  /** `"arg"` (`--token`), `"env"` (`tokenEnvVar`) or `"oauth"` (the stored login). */
  source: "arg" | "env" | "oauth";
}

/**
 * The flows `login()` can run.
 *
 * @example Usage
 * ```ts
 * import type { LoginFlow } from "@x/cli-auth";
 * const flow: LoginFlow = "device";
 * ```
 */
export type LoginFlow = "auto" | "browser" | "device" | "manual";

/**
 * Options of {@link CliAuth.login}.
 *
 * @example Usage
 * ```ts
 * import type { LoginOptions } from "@x/cli-auth";
 * const options: LoginOptions = { flow: "browser", openBrowser: false, timeoutMs: 120_000 };
 * ```
 */
export interface LoginOptions {
  /** `"auto"` (default), `"browser"`, `"device"` or `"manual"`. */
  flow?: LoginFlow;
  /** `false`, or a function to open the URL yourself (default: open the system browser). */
  openBrowser?: boolean | ((url: string) => void | Promise<void>);
  /** Shows the authorization URL (default: printed to stderr, even when a browser opens). */
  onAuthorizationUrl?: (url: string) => void;
  /** Shows the device code (default: a block on stderr). */
  onDeviceCode?: (info: DeviceCodeInfo) => void;
  /** Manual paste only: the redirect URI (default: a loopback URI on a random port where nothing listens). */
  redirectUri?: string;
  /** A port or ports to try for the loopback listener; 0 (default) = any free port. */
  port?: number | readonly number[];
  /** `"127.0.0.1"` (default) or `"::1"`. */
  host?: string;
  /** The redirect URI's path (default `/callback`). */
  callbackPath?: string;
  /** The whole login, in ms (default 300 000); then `login_timeout`. */
  timeoutMs?: number;
  /** Cancels the login (`login_cancelled`) and closes the listener. */
  signal?: AbortSignal;
  /** Scopes for this login (default: the instance's). */
  scopes?: readonly string[];
  /** `prompt` for the authorization request. */
  prompt?: string;
  /** `login_hint` for the authorization request. */
  loginHint?: string;
  /** Further authorization request parameters. */
  extraParams?: Record<string, string>;
  /** Renders the pages the browser sees after the redirect. */
  renderPage?: CallbackPageRenderer;
}

/**
 * What `login()` returns.
 *
 * @example Usage
 * ```ts
 * import type { LoginResult } from "@x/cli-auth";
 * const greet = (r: LoginResult) => `Signed in as ${r.user?.email ?? r.user?.sub} (${r.flow})`;
 * ```
 */
export interface LoginResult {
  /** The tokens of the new session, as stored. */
  tokens: TokenSet;
  /** From the ID token's claims, else userinfo. */
  user?: User;
  /** The flow that ran (what `"auto"` chose). */
  flow: Exclude<LoginFlow, "auto">;
}

/**
 * What `status()` reports, without any network request.
 *
 * @example Usage
 * ```ts
 * import type { AuthStatus } from "@x/cli-auth";
 * const line = (s: AuthStatus) => (s.loggedIn ? `Logged in (${s.storage})` : "Not logged in");
 * ```
 */
export interface AuthStatus {
  /** Whether a session is stored for the profile (its access token may have expired). */
  loggedIn: boolean;
  /** The profile asked about (the instance's `profile`, default `"default"`). */
  profile: string;
  /** Where the session lives: `"keychain"`, `"file"`, `"memory"` or `"custom"` (a store you passed). */
  storage: StorageKind;
  /** When the access token expires, epoch ms. */
  expiresAt?: number;
  /** The scopes granted at the last login or refresh, when the server said. */
  scopes?: string[];
  /** Identity at login time. */
  user?: User;
  /** Whether a refresh token is stored (the session can outlive the access token). */
  refreshable?: boolean;
}

/**
 * Signs a command-line tool's user in and keeps the session. The core class: `@x/cli-auth` exports it wired to the
 * adapters of the running runtime.
 *
 * @example Usage
 * ```ts
 * import { CliAuth } from "@x/cli-auth";
 * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
 * const { user } = await auth.login();
 * console.error(`Signed in as ${user?.email ?? user?.sub}`);
 * ```
 */
export class CliAuth {
  readonly #options: CliAuthOptions;
  readonly #profile: string;
  readonly #loadPlatform: () => Promise<Platform>;
  #platform?: Promise<Platform>;
  #server?: Promise<AuthorizationServer>;
  #store?: CredentialStore;
  #refreshing?: Promise<Session>;
  #transport?: FetchLike;
  readonly #dpopHandles = new Map<string, Promise<DPoPHandle>>();
  readonly #now: () => number;

  /**
   * Checks the options and prepares the instance; nothing is read, stored or requested until a method is called.
   *
   * @param options issuer, client, service and the rest of {@link CliAuthOptions}
   * @param defaultPlatform where the platform comes from when `options.platform` is not set
   * @throws {CliAuthError} `invalid_options`
   */
  constructor(options: CliAuthOptions, defaultPlatform?: () => Promise<Platform>) {
    if (!options || options.service === undefined) {
      throw new CliAuthError("invalid_options", "The `service` option is required", {
        hint: 'Name your CLI, e.g. `service: "my-cli"`: it names the keychain entry and the config folder',
      });
    }
    checkService(options.service); // the same rules as every store (src/names.ts)
    const resources = options.resource === undefined ? [] : typeof options.resource === "string" ? [options.resource] : options.resource;
    if (!options.issuer && !options.endpoints?.token && resources.length === 0) {
      throw new CliAuthError("invalid_options", "Neither `issuer`, `endpoints.token` nor `resource` was given", {
        hint: "Set `issuer` to your authorization server (discovery finds the rest), or `resource` to your API's URL",
      });
    }
    if (!options.clientId && resources.length === 0) {
      throw new CliAuthError("invalid_options", "The `clientId` option is required", {
        hint: "Register a public (native) client for your CLI and pass its client ID",
      });
    }
    if (options.fetch && (options.proxy !== undefined || options.ca !== undefined)) {
      throw new CliAuthError("invalid_options", "The `fetch` option cannot be combined with `proxy` or `ca`", {
        hint: "Your `fetch` makes the connections: give it the proxy and the CAs, or drop it",
      });
    }
    const profile = options.profile ?? "default";
    checkProfile(profile);
    this.#options = options;
    this.#profile = profile;
    this.#now = options.now ?? (() => Date.now());
    const platform = options.platform;
    this.#loadPlatform = typeof platform === "function"
      ? platform
      : platform
      ? () => Promise.resolve(platform)
      : defaultPlatform ?? (() => Promise.reject(new CliAuthError("invalid_options", "No platform was given")));
  }

  /** The profile this instance reads and writes. */
  get profile(): string {
    return this.#profile;
  }

  /** The service name (keychain service, config folder). */
  get service(): string {
    return this.#options.service;
  }

  /** The platform (loaded once). */
  protected platform(): Promise<Platform> {
    return this.#platform ??= this.#loadPlatform();
  }

  /** Where warnings go: the `logger` option, else stderr. */
  protected async logger(): Promise<Logger> {
    if (this.#options.logger) return this.#options.logger;
    const platform = await this.platform();
    return { warn: (message) => platform.terminal.writeStderr(`${message}\n`) };
  }

  /** The transport options every request uses. */
  protected http(): HttpOptions {
    return {
      timeoutMs: this.#options.timeoutMs,
      fetch: this.#options.fetch ?? (this.#transport ??= this.#platformTransport()),
      allowInsecureRequests: this.#options.allowInsecureRequests,
    };
  }

  /** The platform's transport with the `proxy` and `ca` options, made on the first request. */
  #platformTransport(): FetchLike {
    const { proxy, ca } = this.#options;
    let transport: Promise<FetchLike> | undefined;
    const make = async (): Promise<FetchLike> => {
      const { createTransport } = await this.platform();
      if (createTransport) return createTransport({ proxy, ca });
      if (proxy || ca) {
        throw new CliAuthError("invalid_options", "This platform cannot apply the `proxy` and `ca` options", {
          hint: "Give the platform a `createTransport`, or pass a `fetch` of your own",
        });
      }
      return (input, init) => globalThis.fetch(input, init);
    };
    return async (input, init) => await (await (transport ??= make()))(input, init);
  }

  /** The authorization server, discovered once per instance (a failure is not remembered). */
  protected authorizationServer(signal?: AbortSignal): Promise<AuthorizationServer> {
    if (!this.#server) {
      const pending = (async () => {
        let issuer = this.#options.issuer;
        if (!issuer && !this.#options.endpoints?.token) {
          // Sign-in from a resource URL alone: the resource names its authorization server (RFC 9728).
          const { authorizationServerOf, discoverProtectedResource } = await import("./protocol/resource_discovery.ts");
          const metadata = await discoverProtectedResource(this.#resources()[0]!, { http: this.http(), signal });
          issuer = authorizationServerOf(metadata);
        }
        const { resolveAuthorizationServer } = await import("./common/discovery.ts");
        return await resolveAuthorizationServer({ issuer, endpoints: this.#options.endpoints, http: this.http(), signal });
      })();
      this.#server = pending;
      pending.catch(() => {
        if (this.#server === pending) this.#server = undefined;
      });
    }
    return this.#server;
  }

  #resources(): readonly string[] {
    const resource = this.#options.resource;
    return resource === undefined ? [] : typeof resource === "string" ? [resource] : resource;
  }

  /**
   * The protocol context: for a stored session, its client and DPoP key; for a new login, the configured (or
   * registered) client and a fresh DPoP key when `dpop` is on.
   */
  protected async context(
    signal?: AbortSignal,
    using: { session?: Session; clientId?: string; dpop?: DPoPHandle } = {},
  ): Promise<ProtocolContext> {
    const as = await this.authorizationServer(signal);
    const clientId = using.session?.clientId ?? using.clientId ?? this.#options.clientId;
    if (!clientId) throw new CliAuthError("invalid_options", "No client ID is known for this login");
    const dpop = using.dpop ?? (using.session?.dpopKey ? await this.#dpopHandle(clientId, using.session.dpopKey) : undefined);
    const { createProtocolContext } = await import("./protocol/protocol_context.ts");
    return createProtocolContext(as, {
      clientId,
      clientSecret: this.#options.clientSecret,
      http: this.http(),
      resource: this.#options.resource,
      dpop,
    });
  }

  /** One DPoP handle per key and instance, so server nonces are remembered between requests. */
  #dpopHandle(clientId: string, key: StoredDpopKey): Promise<DPoPHandle> {
    const id = `${clientId} ${key.publicJwk.x} ${key.publicJwk.y}`;
    let handle = this.#dpopHandles.get(id);
    if (!handle) {
      handle = import("./protocol/dpop.ts").then(({ dpopHandle, importDpopKey }) => importDpopKey(key).then(dpopHandle));
      this.#dpopHandles.set(id, handle);
    }
    return handle;
  }

  /**
   * The client ID for a new login: the configured one, else the client registered earlier at this authorization
   * server (kept in the store), else a newly registered one (RFC 7591).
   */
  async #loginClientId(as: AuthorizationServer, signal: AbortSignal, fresh = false): Promise<{ clientId: string; registered: boolean }> {
    if (this.#options.clientId) return { clientId: this.#options.clientId, registered: false };
    const store = await this.store();
    const { registerPublicClient, storedClient } = await import("./protocol/client_registration.ts");
    if (!fresh) {
      const known = await storedClient(store, as);
      if (known) return { clientId: known.clientId, registered: true };
    }
    const client = await registerPublicClient(as, store, {
      clientName: this.#options.service,
      http: this.http(),
      signal,
      now: this.#now(),
      dpop: this.#options.dpop,
    });
    return { clientId: client.clientId, registered: false };
  }

  /** The credential store (created once). */
  protected async store(): Promise<CredentialStore> {
    if (this.#store) return this.#store;
    const storage = this.#options.storage ?? "auto";
    if (typeof storage === "object") return this.#store = storage;
    const platform = await this.platform();
    return this.#store = platform.createStore(storage, { service: this.#options.service, logger: await this.logger() });
  }

  /**
   * Reads this profile's session; `null` when there is none, or when it belongs to another issuer or client (the
   * configuration changed since that login).
   */
  protected async readSession(): Promise<Session | null> {
    const store = await this.store();
    const stored = await store.get(this.#profile);
    if (stored === null) return null;
    const session = parseSession(stored, this.#profile);
    if (!this.#belongsHere(session)) return null;
    return session;
  }

  #belongsHere(session: Session): boolean {
    const trim = (value: string) => value.replace(/\/+$/, "");
    if (this.#options.issuer && trim(session.issuer) !== trim(this.#options.issuer)) return false;
    // Without a configured client ID the session's client was registered on the fly: any is ours.
    return !this.#options.clientId || session.clientId === this.#options.clientId;
  }

  /** How hints tell the user to log in. */
  protected loginHint(): string {
    return `Run \`${this.#options.loginCommand ?? `${this.#options.service} login`}\``;
  }

  #notLoggedIn(): CliAuthError {
    return new CliAuthError("not_logged_in", `Not logged in (profile "${this.#profile}")`, { hint: this.loginHint() });
  }

  /** Writes this profile's session. */
  protected async writeSession(session: Session): Promise<void> {
    const store = await this.store();
    await store.set(this.#profile, serializeSession(session));
  }

  /**
   * Signs the user in and stores the session.
   *
   * @param options flow, browser and listener settings, timeout and signal
   * @returns the tokens, the user and the flow that ran
   * @throws {CliAuthError} `login_timeout`, `login_cancelled`, `access_denied`, `state_mismatch`, `issuer_mismatch`, `port_unavailable`, `unsupported_flow`, `device_code_expired`, `network_error`, `timeout`, `discovery_failed`, `storage_unavailable`
   *
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
   * const controller = new AbortController();
   * const { user, flow } = await auth.login({ flow: "browser", signal: controller.signal });
   * ```
   */
  async login(options: LoginOptions = {}): Promise<LoginResult> {
    const { createLoginSignal } = await import("./login/login_signal.ts");
    const login = createLoginSignal({ timeoutMs: options.timeoutMs, signal: options.signal });
    try {
      const as = await this.authorizationServer(login.signal);
      let client = await this.#loginClientId(as, login.signal);
      try {
        return await this.#login(options, login.signal, client.clientId);
      } catch (error) {
        // A client registered earlier and since forgotten by the server: register again, once.
        if (!client.registered || !isCliAuthError(error, "invalid_client")) throw error;
        client = await this.#loginClientId(as, login.signal, true);
        return await this.#login(options, login.signal, client.clientId);
      }
    } finally {
      login.dispose();
    }
  }

  async #login(options: LoginOptions, signal: AbortSignal, clientId: string): Promise<LoginResult> {
    const platform = await this.platform();
    const dpopModule = this.#options.dpop ? await import("./protocol/dpop.ts") : undefined;
    const key = dpopModule ? await dpopModule.generateDpopKey() : undefined;
    const { chooseFlow, headlessReason } = await import("./login/flow_choice.ts");
    const context = await this.context(signal, {
      clientId,
      dpop: key ? dpopModule!.dpopHandle(key.keyPair) : undefined,
    });
    const requested = options.flow ?? "auto";
    if (!["auto", "browser", "device", "manual"].includes(requested)) {
      throw new CliAuthError("invalid_options", `Unknown login flow "${requested}"`, {
        hint: 'Use "auto", "browser", "device" or "manual"',
      });
    }
    const deviceFlowAvailable = Boolean(context.as.device_authorization_endpoint);
    let flow: LoginResult["flow"];
    let browserAtHand: boolean;
    if (requested === "auto") {
      const choice = chooseFlow(await platform.terminal.environment(), { deviceFlowAvailable });
      flow = choice.flow;
      browserAtHand = choice.reason === undefined;
    } else {
      flow = requested;
      browserAtHand = flow === "browser" || headlessReason(await platform.terminal.environment()) === undefined;
    }
    const scopes = options.scopes ?? this.#options.scopes ?? DEFAULT_SCOPES;
    const common = { ...options, scopes, signal };

    let grant: GrantResult | undefined;
    if (flow === "browser") {
      try {
        const { browserLogin } = await import("./login/browser_login.ts");
        grant = await browserLogin(context, platform, common);
      } catch (error) {
        // auto: a listener that cannot bind (sandbox, firewall, every port taken) falls back to device, then manual.
        if (requested !== "auto" || !isCliAuthError(error, "port_unavailable")) throw error;
        flow = deviceFlowAvailable ? "device" : "manual";
        (await this.logger()).warn(`${error.message}; signing in with the ${flow} flow instead`);
      }
    }
    const open = options.openBrowser ?? true;
    const openBrowser = typeof open === "function" ? open : open && browserAtHand;
    if (flow === "device") grant = await (await import("./login/device_login.ts")).deviceLogin(context, platform, { ...common, openBrowser });
    else if (flow === "manual") grant = await (await import("./login/manual_login.ts")).manualLogin(context, platform, { ...common, openBrowser });
    return await this.completeLogin(context, grant!, flow, signal, key?.stored);
  }

  /** Finds out who signed in, stores the session and builds the login result. */
  protected async completeLogin(
    context: ProtocolContext,
    grant: GrantResult,
    flow: LoginResult["flow"],
    signal: AbortSignal,
    dpopKey?: StoredDpopKey,
  ): Promise<LoginResult> {
    const user = await this.identify(context, grant, signal);
    const now = this.#now();
    const session: Session = {
      version: 1,
      profile: this.#profile,
      issuer: context.as.issuer,
      clientId: context.client.client_id,
      tokens: grant.tokens,
      flow,
      createdAt: now,
      updatedAt: now,
    };
    if (user) session.user = user;
    if (dpopKey) session.dpopKey = dpopKey;
    await this.writeSession(session);
    return user ? { tokens: grant.tokens, user, flow } : { tokens: grant.tokens, flow };
  }

  /**
   * A valid access token: the stored one when it is valid beyond `refreshSkewSeconds` (no network, one storage
   * read), otherwise a refreshed one. Refresh is single-flight within the process and serialised across processes
   * by a lock; after taking the lock the store is read again, since another process may have refreshed already.
   * Rotated refresh tokens are saved before the new access token is handed out.
   *
   * @param options `forceRefresh` and a signal
   * @returns the access token
   * @throws {CliAuthError} `not_logged_in`, `session_expired` (the refresh token was refused: the profile is cleared if it still holds that token; a newer session stored meanwhile is used instead), `network_error`, `timeout`, `server_error` (the session is kept)
   *
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
   * const response = await fetch("https://api.example.com/me", {
   *   headers: { authorization: `Bearer ${await auth.getAccessToken()}` },
   * });
   * ```
   */
  async getAccessToken(options: GetAccessTokenOptions = {}): Promise<string> {
    return (await this.#validSession(options)).tokens.accessToken;
  }

  /** The session with a valid access token: one storage read when fresh, else refreshed. */
  async #validSession(options: GetAccessTokenOptions = {}): Promise<Session> {
    const session = await this.readSession();
    if (!session) throw this.#notLoggedIn();
    if (!options.forceRefresh && isFresh(session.tokens, this.#now(), this.#skew())) return session;
    return await this.refreshSession(session, options);
  }

  #skew(): number {
    return this.#options.refreshSkewSeconds ?? DEFAULT_REFRESH_SKEW_SECONDS;
  }

  /**
   * Refreshes `seen` (the session as the caller read it) once for all concurrent callers of this instance, under
   * the cross-process lock, and returns the session to use.
   */
  protected refreshSession(seen: Session, options: GetAccessTokenOptions = {}): Promise<Session> {
    if (!this.#refreshing) {
      const pending = this.#refreshLocked(seen, options);
      this.#refreshing = pending;
      const clear = () => {
        if (this.#refreshing === pending) this.#refreshing = undefined;
      };
      pending.then(clear, clear);
    }
    return this.#refreshing;
  }

  async #refreshLocked(seen: Session, options: GetAccessTokenOptions): Promise<Session> {
    const platform = await this.platform();
    return await platform.withLock(`${this.#options.service}.${this.#profile}.refresh`, async () => {
      let current = await this.readSession();
      // A second round only when the refresh token was refused because a newer session had been stored meanwhile
      // (by a process whose lock did not exclude this one): then that session is used, or refreshed in turn.
      for (let round = 1;; round++) {
        if (!current) throw this.#notLoggedIn();
        // Another process (or instance) refreshed while we waited for the lock: its token is as new as any we could
        // get, so use it while it is still valid at all, rather than spend the rotated refresh token again.
        const someoneElseRefreshed = current.tokens.accessToken !== seen.tokens.accessToken;
        if (someoneElseRefreshed && isFresh(current.tokens, this.#now(), 0)) return current;
        if (!options.forceRefresh && isFresh(current.tokens, this.#now(), this.#skew())) return current;
        if (!current.tokens.refreshToken) {
          await this.#clear();
          throw new CliAuthError("session_expired", "The login has expired and cannot be renewed", {
            hint: this.loginHint(),
          });
        }
        const spending: Session = current;
        const context = await this.context(options.signal, { session: spending });
        const [{ refreshTokens }, { withRetry }] = await Promise.all([import("./protocol/refresh.ts"), import("./protocol/retry.ts")]);
        let refreshed;
        try {
          refreshed = await withRetry(
            () => refreshTokens(context, spending.tokens, { signal: options.signal, now: this.#now }),
            { signal: options.signal },
          );
        } catch (error) {
          const unknownClient = isCliAuthError(error, "invalid_client") && !this.#options.clientId;
          if (unknownClient) {
            // The server forgot the client registered on the fly: the next login registers a new one.
            const { registeredClientKey } = await import("./protocol/client_registration.ts");
            await (await this.store()).delete(registeredClientKey(context.as.issuer));
          }
          if (isCliAuthError(error, "invalid_grant") || unknownClient) {
            // Clear only what was refused: the store is read again, and the session is removed only if it still
            // holds the refresh token the server refused. A newer one, stored meanwhile, is used instead.
            const stored = await this.readSession();
            const refused = spending.tokens.refreshToken;
            if (stored && stored.tokens.refreshToken !== refused && round === 1) {
              current = stored;
              continue;
            }
            if (stored && stored.tokens.refreshToken === refused) await this.#clear();
            throw new CliAuthError("session_expired", "The login has expired or was revoked", {
              hint: this.loginHint(),
              cause: error,
            });
          }
          // Network trouble or a server error: the session stays for the next try.
          throw error;
        }
        const next: Session = { ...spending, tokens: refreshed.tokens, updatedAt: this.#now() };
        await this.writeSession(next);
        return next;
      }
    }, this.#options.lock);
  }

  async #clear(): Promise<void> {
    const store = await this.store();
    await store.delete(this.#profile);
  }

  /**
   * Signs out: revokes the refresh token and the access token at the server (RFC 7009) when it has a revocation
   * endpoint, then clears the local session, even if revocation failed.
   *
   * @param options `revoke: false` only clears the local session
   * @returns whether the server confirmed the revocation, and whether there was a session
   * @throws {CliAuthError} `storage_unavailable` when the local session cannot be removed
   *
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
   * const { revoked } = await auth.logout();
   * console.error(revoked ? "Logged out" : "Logged out on this machine");
   * ```
   * @see https://www.rfc-editor.org/rfc/rfc7009
   */
  async logout(options: { revoke?: boolean; signal?: AbortSignal } = {}): Promise<LogoutResult> {
    let session: Session | null = null;
    try {
      session = await this.readSession();
    } catch (error) {
      if (!isCliAuthError(error, "storage_corrupt")) throw error;
    }
    let revoked = false;
    if (session && (options.revoke ?? true)) {
      try {
        const context = await this.context(options.signal, { session });
        if (context.as.revocation_endpoint) {
          const { revokeToken } = await import("./protocol/revoke.ts");
          const { refreshToken, accessToken } = session.tokens;
          if (refreshToken) {
            await revokeToken(context, refreshToken, { tokenTypeHint: "refresh_token", signal: options.signal });
          }
          await revokeToken(context, accessToken, { tokenTypeHint: "access_token", signal: options.signal })
            .catch((error) => {
              if (!refreshToken) throw error;
            });
          revoked = true;
        }
      } catch {
        revoked = false;
      }
    }
    await this.#clear();
    return { revoked, hadSession: session !== null };
  }

  /**
   * Who the user is, asked fresh from the server every time: your API's `identityEndpoint` with the resolved token
   * when set, else userinfo with a valid access token. Never a cached identity.
   *
   * @param options a `--token` value and a signal
   * @returns the identity
   * @throws {CliAuthError} `not_logged_in`, `session_expired`, `invalid_token`, `unsupported_flow`, `network_error`, `timeout`
   *
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
   * const me = await auth.whoami();
   * console.log(me.email ?? me.sub);
   * ```
   */
  async whoami(options: { tokenFromArg?: string; signal?: AbortSignal } = {}): Promise<User> {
    const identityEndpoint = this.#options.identityEndpoint;
    if (identityEndpoint) {
      const resolved = await this.resolveToken({ tokenFromArg: options.tokenFromArg });
      if (resolved.source !== "oauth") {
        return await this.#identityFrom(await this.#getIdentity(identityEndpoint, resolved.token, options.signal));
      }
      // The stored login: Bearer or DPoP, one refresh and retry on 401, as auth.fetch does.
      const { authenticatedFetch } = await import("./api/authenticated_fetch.ts");
      const response = await authenticatedFetch(
        this.#fetchSession(),
        { apiOrigins: [new URL(identityEndpoint).origin], http: this.http(), loginHint: this.loginHint() },
        identityEndpoint,
        { headers: { accept: "application/json" }, signal: options.signal },
      );
      return await this.#identityFrom(response);
    }
    const { fetchUserInfo } = await import("./protocol/userinfo.ts");
    const fromArg = options.tokenFromArg?.trim();
    if (fromArg) return userFromClaims(await fetchUserInfo(await this.context(options.signal), fromArg, { signal: options.signal }));
    const session = await this.#validSession({ signal: options.signal });
    const token = session.tokens.accessToken;
    const context = await this.context(options.signal, { session });
    let info: UserInfo;
    try {
      info = await fetchUserInfo(context, token, { signal: options.signal });
    } catch (error) {
      if (!isCliAuthError(error, "invalid_token")) throw error;
      const fresh = await this.refreshSession(session, { forceRefresh: true, signal: options.signal });
      info = await fetchUserInfo(context, fresh.tokens.accessToken, { signal: options.signal });
    }
    return userFromClaims(info);
  }

  async #getIdentity(endpoint: string, token: string, signal?: AbortSignal): Promise<Response> {
    const http = this.http();
    const { DEFAULT_TIMEOUT_MS, guardedFetch, timeoutSignal } = await import("./common/http.ts");
    return await guardedFetch(http, "resource")(endpoint, {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      signal: timeoutSignal(http.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal),
      redirect: "error",
    });
  }

  /** The session as `auth.fetch` sees it: its token, its refresh, its DPoP handle. */
  #fetchSession(): AuthenticatedFetchSession {
    // One storage read per request: the token and the DPoP key come from the same session.
    let valid: Promise<Session> | undefined;
    const current = () => valid ??= this.#validSession();
    return {
      token: async () => (await current()).tokens.accessToken,
      refreshed: async (rejected) => {
        const session = await this.readSession();
        if (!session) throw this.#notLoggedIn();
        // The API refused `rejected`: refresh unless another caller already replaced it.
        const seen = session.tokens.accessToken === rejected ? session : { ...session, tokens: { ...session.tokens, accessToken: rejected } };
        return (await this.refreshSession(seen, { forceRefresh: true })).tokens.accessToken;
      },
      dpop: async () => {
        const { clientId, dpopKey } = await current();
        return dpopKey ? await this.#dpopHandle(clientId, dpopKey) : undefined;
      },
    };
  }

  /**
   * Calls your API as the signed-in user: like `fetch`, with `Authorization: Bearer …` (or `DPoP …` and a proof).
   * On `401` with `invalid_token` it refreshes once (shared with `getAccessToken`) and retries once when the body
   * can be sent again; a second `401` is returned. `403 insufficient_scope` throws with the scopes asked for. The
   * token is only ever sent to `apiOrigins` (default: the `resource` origins, else the `identityEndpoint` origin).
   *
   * @param input the URL or Request
   * @param init the request options
   * @returns the response
   * @throws {CliAuthError} `invalid_options` (another origin: nothing is sent), `insufficient_scope`, `not_logged_in`, `session_expired`, `network_error`, `timeout`
   *
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const auth = new CliAuth({
   *   issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli", resource: "https://api.example.com/",
   * });
   * const projects = await (await auth.fetch("https://api.example.com/projects")).json();
   * ```
   */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const { authenticatedFetch } = await import("./api/authenticated_fetch.ts");
    return await authenticatedFetch(
      this.#fetchSession(),
      { apiOrigins: this.#apiOrigins(), http: this.http(), loginHint: this.loginHint() },
      input,
      init,
    );
  }

  #apiOrigins(): string[] {
    if (this.#options.apiOrigins) return [...this.#options.apiOrigins];
    const resources = this.#resources();
    if (resources.length > 0) return [...resources];
    return this.#options.identityEndpoint ? [this.#options.identityEndpoint] : [];
  }

  async #identityFrom(response: Response): Promise<User> {
    if (response.status === 401) {
      await response.body?.cancel();
      throw new CliAuthError("invalid_token", "The API refused the token", { status: 401, hint: this.loginHint() });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new CliAuthError(response.status >= 500 ? "server_error" : "invalid_response", `The identity endpoint answered ${response.status}`, {
        status: response.status,
      });
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw (await import("./common/error_mapping.ts")).toCliAuthError(error, "resource");
    }
    const record = body as Record<string, unknown> | null;
    // `sub` (OpenID Connect), `subject` (this library's identityHandler), or `id` (GitHub's /user and many APIs).
    const rawId = record?.sub ?? record?.subject ?? record?.id;
    const sub = typeof rawId === "string" ? rawId : typeof rawId === "number" ? String(rawId) : undefined;
    if (!record || !sub) throw new CliAuthError("invalid_response", "The identity endpoint's answer names no subject");
    const claims = typeof record.claims === "object" && record.claims !== null ? record.claims as Record<string, unknown> : {};
    return userFromClaims({ ...claims, ...record, sub });
  }

  /**
   * The token to call your API with, by precedence: `tokenFromArg` (a `--token` flag), then the `tokenEnvVar`
   * environment variable, then the stored login (refreshed if needed). Empty strings do not count.
   *
   * @param options the `--token` value
   * @returns the token and its source
   * @throws {CliAuthError} `not_logged_in` naming all three ways, `session_expired`, `network_error`
   *
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli", tokenEnvVar: "MYCLI_TOKEN" });
   * const { token, source } = await auth.resolveToken({ tokenFromArg: undefined });
   * ```
   */
  async resolveToken(options: { tokenFromArg?: string | null } = {}): Promise<ResolvedToken> {
    const fromArg = options.tokenFromArg?.trim();
    if (fromArg) return { token: fromArg, source: "arg" };
    const variable = this.#options.tokenEnvVar;
    if (variable) {
      const fromEnv = (await this.platform()).terminal.env(variable)?.trim();
      if (fromEnv) return { token: fromEnv, source: "env" };
    }
    try {
      return { token: await this.getAccessToken(), source: "oauth" };
    } catch (error) {
      if (!isCliAuthError(error, "not_logged_in")) throw error;
      const ways = [
        "pass `--token <token>`",
        variable ? `set ${variable}` : undefined,
        this.loginHint().replace(/^Run/, "run"),
      ].filter(Boolean);
      throw new CliAuthError("not_logged_in", "No token: not logged in and none was given", {
        hint: `${ways.slice(0, -1).join(", ")} or ${ways.at(-1)}`,
      });
    }
  }

  /**
   * Who signed in: the ID token's claims, completed by userinfo when the server has it and the access token is not
   * bound to an API (such tokens are refused at userinfo). Identity is a nicety at login: without it the session
   * still stands, and `whoami()` asks the server again anyway.
   */
  protected async identify(context: ProtocolContext, grant: GrantResult, signal: AbortSignal): Promise<User | undefined> {
    const claims = grant.claims as ({ sub: string } & Record<string, unknown>) | undefined;
    let user = claims ? userFromClaims(claims) : undefined;
    if (context.as.userinfo_endpoint && context.resource.length === 0) {
      try {
        const { fetchUserInfo } = await import("./protocol/userinfo.ts");
        const info = await fetchUserInfo(context, grant.tokens.accessToken, { signal, expectedSubject: claims?.sub });
        user = { ...user, ...userFromClaims(info) };
      } catch {
        // Keep what the ID token said.
      }
    }
    return user;
  }

  /**
   * This profile's stored session, or `null`. No network.
   *
   * @returns the session
   * @throws {CliAuthError} `storage_corrupt`, `storage_unavailable`
   *
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
   * const session = await auth.getSession();
   * console.log(session?.user?.email);
   * ```
   */
  async getSession(): Promise<Session | null> {
    return await this.readSession();
  }

  /**
   * What `my-cli auth status` prints. No network.
   *
   * @returns logged in or not, profile, storage kind, expiry, scopes
   *
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
   * const { loggedIn, storage } = await auth.status();
   * ```
   */
  async status(): Promise<AuthStatus> {
    const store = await this.store();
    const session = await this.readSession();
    const status: AuthStatus = { loggedIn: session !== null, profile: this.#profile, storage: store.kind ?? "custom" };
    if (session) {
      if (session.tokens.expiresAt !== undefined) status.expiresAt = session.tokens.expiresAt;
      if (session.tokens.scope) status.scopes = session.tokens.scope;
      if (session.user) status.user = session.user;
      status.refreshable = Boolean(session.tokens.refreshToken);
    }
    return status;
  }
}
