/**
 * The browser login: PKCE + state, a one-shot loopback listener, the authorization URL printed (and opened), the
 * callback validated, the code exchanged.
 *
 * @module
 */

import { buildAuthorizationUrl } from "../protocol/authorize.ts";
import { exchangeAuthorizationCode, type GrantResult, validateCallback } from "../protocol/code_exchange.ts";
import type { Platform } from "../contracts.ts";
import { abortReason } from "./login_signal.ts";
import { startLoopbackServer } from "./loopback_server.ts";
import type { CallbackPageRenderer } from "./pages.ts";
import { createPkce, type Pkce } from "../protocol/pkce.ts";
import { printable } from "../common/printable.ts";
import type { ProtocolContext } from "../protocol/protocol_context.ts";
import type { RequestedAuthentication } from "../protocol/requested_authentication.ts";

/**
 * What a browser-based login may be told (shared by the browser and manual flows).
 *
 * @example Usage
 * ```ts
 * import type { AuthorizationRequestOptions } from "@x/cli-auth";
 * const options: AuthorizationRequestOptions = { scopes: ["openid"], prompt: "select_account" };
 * ```
 */
export interface AuthorizationRequestOptions extends RequestedAuthentication {
  /** Scopes to ask for. */
  scopes?: readonly string[];
  /** `prompt` for the authorization request. */
  prompt?: string;
  /** `login_hint` for the authorization request. */
  loginHint?: string;
  /** Further authorization request parameters. */
  extraParams?: Record<string, string>;
  /** `false`, or a function to open the URL yourself (default: the platform's browser opener). */
  openBrowser?: boolean | ((url: string) => void | Promise<void>);
  /** Shows the authorization URL (default: printed to stderr, always, even when a browser opens). */
  onAuthorizationUrl?: (url: string) => void;
  /** When the login started, epoch ms (default: now): the ID token's `auth_time` is judged against it (`maxAge`). */
  requestedAt?: number;
}

/**
 * The authorization URL of a browser or manual login: PKCE, state, `redirectUri`, and the request parameters of
 * `options` (scopes, prompt, login hint, step-up, extra parameters).
 */
export function authorizationUrlFor(
  context: ProtocolContext,
  pkce: Pkce,
  redirectUri: string,
  options: AuthorizationRequestOptions,
): URL {
  const { scopes, prompt, loginHint, extraParams, acrValues, maxAge } = options;
  return buildAuthorizationUrl(context, pkce, { redirectUri, scopes, prompt, loginHint, extraParams, acrValues, maxAge });
}

/**
 * Options of {@link browserLogin}.
 *
 * @example Usage
 * ```ts
 * import type { BrowserLoginOptions } from "@x/cli-auth";
 * const options: BrowserLoginOptions = { signal: AbortSignal.timeout(300_000), port: [53682, 53683] };
 * ```
 */
export interface BrowserLoginOptions extends AuthorizationRequestOptions {
  /** The login's signal (timeout and cancel). */
  signal: AbortSignal;
  /** A port or ports to try for the loopback listener; 0 (default) = any free port. */
  port?: number | readonly number[];
  /** `"127.0.0.1"` (default) or `"::1"`. */
  host?: string;
  /** The redirect URI's path (default `/callback`). */
  callbackPath?: string;
  /** Renders the pages the browser sees after the redirect. */
  renderPage?: CallbackPageRenderer;
}

/**
 * Prints the authorization URL (or hands it to `onAuthorizationUrl`) and opens the browser unless told not to.
 * Opening never blocks or fails the login.
 *
 * @param platform the runtime
 * @param url the authorization URL
 * @param options `openBrowser` and `onAuthorizationUrl`
 *
 * @example Usage
 * ```ts
 * import { announceAuthorizationUrl, type Platform } from "@x/cli-auth/protocol";
 * declare const platform: Platform;
 * announceAuthorizationUrl(platform, new URL("https://auth.example.com/authorize?…"), { openBrowser: false });
 * ```
 */
export function announceAuthorizationUrl(platform: Platform, url: URL, options: AuthorizationRequestOptions): void {
  const href = url.href;
  if (options.onAuthorizationUrl) options.onAuthorizationUrl(href);
  // A serialized URL percent-encodes controls already; printable() keeps it so whatever the server's metadata held.
  else platform.terminal.writeStderr(`\nOpen this URL in your browser to sign in:\n\n  ${printable(href)}\n\n`);
  const open = options.openBrowser ?? true;
  if (open === false) return;
  void (async () => {
    if (typeof open === "function") await open(href);
    else await platform.openBrowser(href);
  })().catch(() => {});
}

/**
 * Runs the browser login up to the tokens.
 *
 * @param context the protocol context
 * @param platform the runtime (listener, browser, stderr)
 * @param options scopes, ports, callbacks, the login signal
 * @returns the tokens and ID token claims
 * @throws {CliAuthError} `port_unavailable`, `access_denied`, `issuer_mismatch`, `login_timeout`, `login_cancelled`, and the token request's codes
 *
 * @example Usage
 * ```ts
 * import { browserLogin, createLoginSignal, type Platform, type ProtocolContext } from "@x/cli-auth/protocol";
 * declare const context: ProtocolContext, platform: Platform;
 * const login = createLoginSignal({ timeoutMs: 300_000 });
 * try {
 *   const { tokens } = await browserLogin(context, platform, { signal: login.signal, scopes: ["openid"] });
 * } finally {
 *   login.dispose();
 * }
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc8252
 */
export async function browserLogin(
  context: ProtocolContext,
  platform: Platform,
  options: BrowserLoginOptions,
): Promise<GrantResult> {
  const { signal } = options;
  const requestedAt = options.requestedAt ?? Date.now();
  const pkce = await createPkce();
  const server = await startLoopbackServer({
    listen: platform.listen,
    host: options.host,
    port: options.port,
    callbackPath: options.callbackPath,
    signal,
    state: pkce.state,
    validate: (params) => validateCallback(context, params, pkce.state),
    renderPage: options.renderPage,
  });
  try {
    const url = authorizationUrlFor(context, pkce, server.redirectUri, options);
    announceAuthorizationUrl(platform, url, options);
    const params = await server.waitForCallback();
    return await exchangeAuthorizationCode(context, params, {
      redirectUri: server.redirectUri,
      codeVerifier: pkce.codeVerifier,
      signal,
      acrValues: options.acrValues,
      maxAge: options.maxAge,
      requestedAt,
    });
  } catch (error) {
    throw abortReason(error, signal);
  } finally {
    await server.close();
  }
}
