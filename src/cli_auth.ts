/**
 * `CliAuth`: the facade a CLI uses — login, tokens, identity, logout. It checks the options once (`options.ts`) and
 * delegates every method to a part with one job: the session store, the refresher, the authorization server
 * (`issuer.ts`), the login flows, `whoami` and `auth.fetch`. The parts are imported on first use, so that
 * `import "@x/cli-auth"` costs next to nothing and the fresh-token path loads no protocol code. It does no I/O of its
 * own: the runtime comes in as a {@link Platform}.
 *
 * @module
 */

import type { Platform } from "./contracts.ts";
import type { ResolvedToken } from "./api/resolve_token.ts";
import type { Issuer } from "./issuer.ts";
import type { LoginOptions, LoginParts, LoginResult } from "./login/login.ts";
import type { BeginLoginOptions, PendingLogin, ResumeLoginOptions, ResumeLoginResult } from "./login/pending_login.ts";
import { checkOptions, type CliAuthOptions, type Config } from "./options.ts";
import type { LogoutResult } from "./session/logout.ts";
import type { AuthStatus } from "./session/status.ts";
import type { GetAccessTokenOptions, Refresher } from "./session/refresher.ts";
import type { Session, User } from "./session/session.ts";
import type { SessionStore } from "./session/session_store.ts";

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
  readonly #config: Config;
  #sessions?: Promise<SessionStore>;
  #issuer?: Promise<Issuer>;
  #refresher?: Promise<Refresher>;

  /**
   * Checks the options and prepares the instance; nothing is read, stored or requested until a method is called.
   *
   * @param options issuer, client, service and the rest of {@link CliAuthOptions}
   * @param defaultPlatform where the platform comes from when `options.platform` is not set
   * @throws {CliAuthError} `invalid_options`
   */
  constructor(options: CliAuthOptions, defaultPlatform?: () => Promise<Platform>) {
    this.#config = checkOptions(options, defaultPlatform);
  }

  /** The profile this instance reads and writes. */
  get profile(): string {
    return this.#config.profile;
  }

  /** The service name (keychain service, config folder). */
  get service(): string {
    return this.#config.service;
  }

  // The parts, each made once, on first use.
  #sessionStore = (): Promise<SessionStore> =>
    this.#sessions ??= import("./session/session_store.ts").then((m) => m.createSessionStore(this.#config));
  #issuerPart = (): Promise<Issuer> => this.#issuer ??= import("./issuer.ts").then((m) => m.createIssuer(this.#config));
  #refresherPart = (): Promise<Refresher> =>
    this.#refresher ??= Promise.all([import("./session/refresher.ts"), this.#sessionStore()])
      .then(([m, sessions]) => m.createRefresher(this.#config, sessions, this.#issuerPart));
  #loginParts = async (): Promise<LoginParts> => ({ config: this.#config, issuer: await this.#issuerPart(), sessions: await this.#sessionStore() });

  /**
   * Signs the user in and stores the session.
   *
   * @param options flow, browser and listener settings, timeout and signal; `acrValues` / `maxAge` for a step-up
   * @returns the tokens, the user and the flow that ran
   * @throws {CliAuthError} `login_timeout`, `login_cancelled`, `access_denied` (also: the ID token shows the server did not perform the `acrValues` / `maxAge` asked for; nothing stored), `state_mismatch`, `issuer_mismatch`, `port_unavailable`, `unsupported_flow`, `device_code_expired`, `network_error`, `timeout`, `discovery_failed`, `storage_unavailable`
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
    return await (await import("./login/login.ts")).login(await this.#loginParts(), options);
  }

  /**
   * Begins a sign-in `resumeLogin()` finishes in any later process; JSON without secrets (those stay in the store).
   *
   * @param options `flow` (`"device"`, the default, or `"manual"`), scopes, request parameters, signal
   * @returns the pending login: the user code and page (device) or the URL to open (manual), its expiry
   * @throws {CliAuthError} `unsupported_flow`, `invalid_options`, `login_cancelled`, `network_error`, `timeout`, `discovery_failed`, `storage_unavailable`
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * console.log(await new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" }).beginLogin());
   * ```
   */
  async beginLogin(options: BeginLoginOptions = {}): Promise<PendingLogin> {
    return await (await import("./login/begin_login.ts")).beginLogin(await this.#loginParts(), options);
  }

  /**
   * Finishes the pending login: device, at most one token request (none within `interval` of the last); `wait`
   * polls until approved, denied or expired; `callbackUrl` finishes a manual one. Done: the session is stored first.
   *
   * @param options `wait`, `callbackUrl`, `timeoutMs`, `signal`
   * @returns `{ done: false, pending }` or `{ done: true, result }`
   * @throws {CliAuthError} `no_pending_login`, `access_denied` and `device_code_expired` (both forget it), `state_mismatch`, `issuer_mismatch`, `login_timeout`, `login_cancelled`, `network_error`
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const resumed = await new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" }).resumeLogin();
   * ```
   */
  async resumeLogin(options: ResumeLoginOptions = {}): Promise<ResumeLoginResult> {
    return await (await import("./login/resume_login.ts")).resumeLogin(await this.#loginParts(), options);
  }

  /**
   * Forgets the profile's pending login; no network.
   * @returns whether there was one
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * await new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" }).cancelLogin();
   * ```
   */
  async cancelLogin(): Promise<{ cancelled: boolean }> {
    return await (await import("./login/resume_login.ts")).cancelLogin({ config: this.#config });
  }

  /**
   * Keeps a token the user has (PAT, API key) as the session: never refreshed or sent to the authorization server,
   * forgotten (not revoked) by `logout()`.
   *
   * @param token the token, e.g. read from stdin; visible ASCII only, one trailing newline dropped
   * @throws {CliAuthError} `invalid_options` (empty, or with a space, a control or non-ASCII character), `storage_unavailable`
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * await new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" }).loginWithToken("ghp_0123456789abcdef");
   * ```
   */
  async loginWithToken(token: string): Promise<void> {
    await (await import("./login/token_login.ts")).loginWithToken(this.#config, await this.#sessionStore(), token);
  }

  /**
   * A valid access token: the stored one while valid beyond `refreshSkewSeconds` (one store read, no network), else
   * one refreshed once — single-flight in the process, under a lock across processes (the store re-read after taking
   * it), rotated refresh tokens saved before the new access token is handed out.
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
    return (await (await this.#refresherPart()).validSession(options)).tokens.accessToken;
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
    const { logout } = await import("./session/logout.ts");
    return await logout(await this.#sessionStore(), this.#issuerPart, options);
  }

  /**
   * Who the user is, asked fresh from the server every time: your API's `identityEndpoint` with the resolved token
   * when set, else userinfo with a valid access token (never a `loginWithToken()` token). Never a cached identity.
   *
   * @param options a `--token` value and a signal
   * @returns the identity
   * @throws {CliAuthError} `not_logged_in`, `session_expired`, `invalid_token`, `unsupported_flow` (no userinfo; a token session without `identityEndpoint`), `network_error`, `timeout`
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
    const { whoami } = await import("./api/identity.ts");
    return await whoami({ config: this.#config, refresher: this.#refresherPart, issuer: this.#issuerPart }, options);
  }

  /**
   * Calls your API as the signed-in user: like `fetch`, with `Authorization: Bearer …` (or `DPoP …` and a proof).
   * On `401` with `invalid_token` it refreshes once (shared with `getAccessToken`) and retries once when the body
   * can be sent again; a second `401` is returned. `403 insufficient_scope` throws with the scopes asked for;
   * `401 insufficient_user_authentication` (RFC 9470) throws `step_up_required` with `acrValues` and `maxAge`, with no
   * refresh or retry. The token only goes to `apiOrigins` (default: the `resource` origins, else `identityEndpoint`'s).
   *
   * @param input the URL or Request
   * @param init the request options
   * @returns the response
   * @throws {CliAuthError} `invalid_options` (another origin: nothing is sent), `insufficient_scope`, `step_up_required`, `not_logged_in`, `session_expired`, `network_error`, `timeout`
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
    const [{ authenticatedFetch }, { apiSession }] =
      await Promise.all([import("./api/authenticated_fetch.ts"), import("./api/api_session.ts")]);
    const { apiOrigins, http, loginHint } = this.#config;
    return await authenticatedFetch(apiSession(await this.#refresherPart(), this.#issuerPart), { apiOrigins, http, loginHint }, input, init);
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
    const { resolveToken } = await import("./api/resolve_token.ts");
    return await resolveToken(this.#config, this.#refresherPart, options);
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
    return await (await this.#sessionStore()).read();
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
    const { status } = await import("./session/status.ts");
    return await status(this.#config, await this.#sessionStore());
  }
}
