/**
 * `login()`: chooses the flow (`"auto"`: browser on a desktop, device when headless, manual without either), runs it,
 * falls back from a browser login whose listener cannot bind, registers the client again once when the server forgot
 * the one registered earlier, finds out who signed in, and stores the session. State comes in explicitly: the
 * instance's configuration, its authorization server and its session store.
 *
 * @module
 */

import { CliAuthError, isCliAuthError } from "../common/errors.ts";
import type { Issuer } from "../issuer.ts";
import type { Config } from "../options.ts";
import type { GrantResult } from "../protocol/code_exchange.ts";
import type { StoredDpopKey } from "../protocol/dpop.ts";
import type { ProtocolContext } from "../protocol/protocol_context.ts";
import type { RequestedAuthentication } from "../protocol/requested_authentication.ts";
import type { TokenSet } from "../protocol/token_set.ts";
import { type User, userFromClaims } from "../session/session.ts";
import { newSession, type SessionStore } from "../session/session_store.ts";
import type { DeviceCodeInfo } from "./device_login.ts";
import type { CallbackPageRenderer } from "./pages.ts";

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
 *
 * @example Step-up (RFC 9470): the sign-in an API asked for
 * ```ts
 * import { CliAuth } from "@x/cli-auth";
 * const auth = new CliAuth({ resource: "https://api.example.com/", service: "my-cli" });
 * await auth.login({ acrValues: ["urn:example:mfa"], maxAge: 0 });
 * ```
 */
export interface LoginOptions extends RequestedAuthentication {
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

/** What a login works with: the instance's configuration, its authorization server and its session store. */
export interface LoginParts {
  /** The instance's configuration. */
  config: Config;
  /** Its authorization server. */
  issuer: Issuer;
  /** The profile's session store. */
  sessions: SessionStore;
}

/**
 * Signs the user in and stores the session (see `CliAuth.login`).
 *
 * @param parts the configuration, authorization server and session store
 * @param options flow, browser and listener settings, timeout and signal
 * @returns the tokens, the user and the flow that ran
 */
export async function login(parts: LoginParts, options: LoginOptions = {}): Promise<LoginResult> {
  // acrValues / maxAge are checked before anything is sent.
  const { checkRequestedAuthentication } = await import("../protocol/requested_authentication.ts");
  checkRequestedAuthentication(options);
  const { createLoginSignal } = await import("./login_signal.ts");
  const login = createLoginSignal({ timeoutMs: options.timeoutMs, signal: options.signal });
  try {
    const as = await parts.issuer.metadata(login.signal);
    let client = await parts.issuer.loginClient(as, login.signal);
    try {
      return await loginWith(parts, options, login.signal, client.clientId);
    } catch (error) {
      // A client registered earlier and since forgotten by the server: register again, once.
      if (!client.registered || !isCliAuthError(error, "invalid_client")) throw error;
      client = await parts.issuer.loginClient(as, login.signal, true);
      return await loginWith(parts, options, login.signal, client.clientId);
    }
  } finally {
    login.dispose();
  }
}

async function loginWith(parts: LoginParts, options: LoginOptions, signal: AbortSignal, clientId: string): Promise<LoginResult> {
  const { config, issuer } = parts;
  const platform = await config.platform();
  const dpopModule = config.dpop ? await import("../protocol/dpop.ts") : undefined;
  const key = dpopModule ? await dpopModule.generateDpopKey() : undefined;
  const { chooseFlow, headlessReason } = await import("./flow_choice.ts");
  const context = await issuer.context(signal, {
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
  // requestedAt: the ID token's auth_time is judged against the start of the login (maxAge), on the instance's clock.
  const common = { ...options, scopes: options.scopes ?? config.scopes, signal, requestedAt: config.now() };

  let grant: GrantResult | undefined;
  if (flow === "browser") {
    try {
      const { browserLogin } = await import("./browser_login.ts");
      grant = await browserLogin(context, platform, common);
    } catch (error) {
      // auto: a listener that cannot bind (sandbox, firewall, every port taken) falls back to device, then manual.
      if (requested !== "auto" || !isCliAuthError(error, "port_unavailable")) throw error;
      flow = deviceFlowAvailable ? "device" : "manual";
      (await config.logger()).warn(`${error.message}; signing in with the ${flow} flow instead`);
    }
  }
  const open = options.openBrowser ?? true;
  const openBrowser = typeof open === "function" ? open : open && browserAtHand;
  if (flow === "device") grant = await (await import("./device_login.ts")).deviceLogin(context, platform, { ...common, openBrowser });
  else if (flow === "manual") grant = await (await import("./manual_login.ts")).manualLogin(context, platform, { ...common, openBrowser });
  return await completeLogin(parts, context, grant!, flow, signal, key?.stored);
}

/**
 * Finds out who signed in, stores the session and builds the login result: the end of every login, and of a
 * pending one finished by `resumeLogin()`.
 *
 * @param parts the configuration and session store
 * @param context the protocol context the grant was made in
 * @param grant the tokens and ID token claims
 * @param flow the flow that ran
 * @param signal the login signal
 * @param dpopKey the key the tokens are bound to, if any
 * @returns the login result, once the session is stored
 */
export async function completeLogin(
  { config, sessions }: Pick<LoginParts, "config" | "sessions">,
  context: ProtocolContext,
  grant: GrantResult,
  flow: LoginResult["flow"],
  signal: AbortSignal,
  dpopKey?: StoredDpopKey,
): Promise<LoginResult> {
  const user = await identify(context, grant, signal);
  const session = newSession(config, { issuer: context.as.issuer, clientId: context.client.client_id, tokens: grant.tokens, flow });
  if (user) session.user = user;
  if (dpopKey) session.dpopKey = dpopKey;
  await sessions.write(session);
  return user ? { tokens: grant.tokens, user, flow } : { tokens: grant.tokens, flow };
}

/**
 * Who signed in: the ID token's claims, completed by userinfo when the server has it and the access token is not
 * bound to an API (such tokens are refused at userinfo). Identity is a nicety at login: without it the session
 * still stands, and `whoami()` asks the server again anyway.
 */
async function identify(context: ProtocolContext, grant: GrantResult, signal: AbortSignal): Promise<User | undefined> {
  const claims = grant.claims as ({ sub: string } & Record<string, unknown>) | undefined;
  let user = claims ? userFromClaims(claims) : undefined;
  if (context.as.userinfo_endpoint && context.resource.length === 0) {
    try {
      const { fetchUserInfo } = await import("../protocol/userinfo.ts");
      const info = await fetchUserInfo(context, grant.tokens.accessToken, { signal, expectedSubject: claims?.sub });
      user = { ...user, ...userFromClaims(info) };
    } catch {
      // Keep what the ID token said.
    }
  }
  return user;
}
