/**
 * The manual-paste login, for a remote shell whose loopback port the browser cannot reach: print the authorization
 * URL, let the user sign in anywhere, and read back the URL the browser was sent to (or just the code).
 *
 * @module
 */

import { announceAuthorizationUrl, type AuthorizationRequestOptions, authorizationUrlFor } from "./browser_login.ts";
import { exchangeAuthorizationCode, type GrantResult, validateCallback } from "../protocol/code_exchange.ts";
import type { Platform } from "../contracts.ts";
import { CliAuthError } from "../common/errors.ts";
import { abortReason } from "./login_signal.ts";
import { createPkce } from "../protocol/pkce.ts";
import type { ProtocolContext } from "../protocol/protocol_context.ts";

/**
 * Options of {@link manualLogin}.
 *
 * @example Usage
 * ```ts
 * import type { ManualLoginOptions } from "@x/cli-auth";
 * const options: ManualLoginOptions = { signal: AbortSignal.timeout(300_000), redirectUri: "http://127.0.0.1:8085/callback" };
 * ```
 */
export interface ManualLoginOptions extends AuthorizationRequestOptions {
  /** The login's signal (timeout and cancel). */
  signal: AbortSignal;
  /**
   * The redirect URI to use. Default: a loopback URI on a random high port where nothing listens; the browser
   * shows a connection error whose address bar holds the URL to paste.
   */
  redirectUri?: string;
}

/** The prompt printed before reading the pasted URL. */
export const PASTE_PROMPT = "Paste the URL your browser was redirected to (or just the code), then press Enter:\n> ";

/**
 * Turns what the user pasted into callback parameters: a whole URL, a query string, or a bare code (then the
 * expected state, and the issuer when the server requires `iss`, are assumed: the code is still bound to this
 * login's PKCE verifier).
 *
 * @param pasted the pasted line
 * @param expected this login's state and the issuer
 * @returns the callback parameters
 * @throws {CliAuthError} `invalid_response` when nothing usable was pasted
 *
 * @example Usage
 * ```ts
 * import { parsePastedCallback } from "@x/cli-auth/protocol";
 * const params = parsePastedCallback("http://127.0.0.1:8085/callback?code=abc&state=xyz", { state: "xyz" });
 * ```
 */
export function parsePastedCallback(pasted: string, expected: { state: string; issuer?: string }): URLSearchParams {
  const text = pasted.trim();
  if (text === "") {
    throw new CliAuthError("invalid_response", "Nothing was pasted", { hint: "Paste the URL from the browser's address bar" });
  }
  if (/^https?:\/\//i.test(text)) {
    try {
      return new URL(text).searchParams;
    } catch {
      throw new CliAuthError("invalid_response", "The pasted text is not a valid URL");
    }
  }
  if (/(^|[?&])(code|error|state)=/.test(text)) return new URLSearchParams(text.replace(/^.*\?/, ""));
  if (!/^[\w\-.~+/=]+$/.test(text)) {
    throw new CliAuthError("invalid_response", "The pasted text is neither a URL nor an authorization code", {
      hint: "Paste the whole URL from the browser's address bar",
    });
  }
  const params = new URLSearchParams({ code: text, state: expected.state });
  if (expected.issuer) params.set("iss", expected.issuer);
  return params;
}

function randomHighPort(): number {
  const [value] = crypto.getRandomValues(new Uint16Array(1));
  return 49152 + (value! % 16384);
}

/**
 * Runs the manual-paste login up to the tokens.
 *
 * @param context the protocol context
 * @param platform the runtime (stderr, stdin)
 * @param options scopes, redirect URI, display, the login signal
 * @returns the tokens and ID token claims
 * @throws {CliAuthError} `state_mismatch`, `issuer_mismatch`, `access_denied`, `invalid_response`, `login_timeout`, `login_cancelled`, and the token request's codes
 *
 * @example Usage
 * ```ts
 * import { createLoginSignal, manualLogin, type Platform, type ProtocolContext } from "@x/cli-auth/protocol";
 * declare const context: ProtocolContext, platform: Platform;
 * const login = createLoginSignal({});
 * try {
 *   const { tokens } = await manualLogin(context, platform, { signal: login.signal });
 * } finally {
 *   login.dispose();
 * }
 * ```
 */
export async function manualLogin(
  context: ProtocolContext,
  platform: Platform,
  options: ManualLoginOptions,
): Promise<GrantResult> {
  const { signal } = options;
  const requestedAt = options.requestedAt ?? Date.now();
  try {
    const started = await startManualAuthorization(context, options);
    announceAuthorizationUrl(platform, started.url, { ...options, openBrowser: options.openBrowser ?? false });
    const pasted = await platform.terminal.readLine(PASTE_PROMPT, signal);
    return await completeManualAuthorization(context, pasted, {
      ...started,
      signal,
      acrValues: options.acrValues,
      maxAge: options.maxAge,
      requestedAt,
    });
  } catch (error) {
    throw abortReason(error, signal);
  }
}

/**
 * A manual authorization begun: the URL to open and what finishing it needs (secret: the PKCE verifier and state).
 *
 * @example Usage
 * ```ts
 * import type { ManualAuthorization } from "@x/cli-auth";
 * const show = (m: ManualAuthorization) => console.error(`Open ${m.url}`);
 * ```
 */
export interface ManualAuthorization {
  /** The authorization URL to open in a browser. */
  url: URL;
  /** The redirect URI in it. */
  redirectUri: string;
  /** The `state` in it. */
  state: string;
  /** The PKCE verifier of its challenge: secret. */
  codeVerifier: string;
}

/**
 * Builds the authorization URL of a manual-paste login (PKCE, state, the redirect URI).
 *
 * @param context the protocol context
 * @param options scopes, redirect URI and further request parameters
 * @returns the URL and what {@link completeManualAuthorization} needs
 * @throws {CliAuthError} `unsupported_flow` when the server has no authorization endpoint
 *
 * @example Usage
 * ```ts
 * import { startManualAuthorization, type ProtocolContext } from "@x/cli-auth/protocol";
 * declare const context: ProtocolContext;
 * const { url } = await startManualAuthorization(context, { scopes: ["openid"] });
 * ```
 */
export async function startManualAuthorization(
  context: ProtocolContext,
  options: Omit<ManualLoginOptions, "signal" | "openBrowser" | "onAuthorizationUrl">,
): Promise<ManualAuthorization> {
  const pkce = await createPkce();
  const redirectUri = options.redirectUri ?? `http://127.0.0.1:${randomHighPort()}/callback`;
  const url = authorizationUrlFor(context, pkce, redirectUri, options);
  return { url, redirectUri, state: pkce.state, codeVerifier: pkce.codeVerifier };
}

/**
 * Finishes a manual-paste login from what the user pasted (see {@link parsePastedCallback}): the `state` and RFC 9207
 * `iss` checks of {@link validateCallback}, then the code exchange with the PKCE verifier.
 *
 * @param context the protocol context
 * @param pasted the redirect URL, its query, or the bare code
 * @param authorization the redirect URI, state and verifier of the authorization request, a signal, and the
 *   `acrValues`/`maxAge` it asked for (checked against the ID token) with the time it was made
 * @returns the tokens and ID token claims
 * @throws {CliAuthError} `state_mismatch`, `issuer_mismatch`, `access_denied`, `invalid_response`, and the token request's codes
 *
 * @example Usage
 * ```ts
 * import { completeManualAuthorization, startManualAuthorization, type ProtocolContext } from "@x/cli-auth/protocol";
 * declare const context: ProtocolContext, pasted: string;
 * const started = await startManualAuthorization(context, {});
 * const { tokens } = await completeManualAuthorization(context, pasted, started);
 * ```
 */
export async function completeManualAuthorization(
  context: ProtocolContext,
  pasted: string,
  authorization: {
    redirectUri: string;
    state: string;
    codeVerifier: string;
    signal?: AbortSignal;
    acrValues?: readonly string[];
    maxAge?: number;
    requestedAt?: number;
  },
): Promise<GrantResult> {
  const { state, redirectUri, codeVerifier, signal, acrValues, maxAge, requestedAt } = authorization;
  const requiresIss = context.as.authorization_response_iss_parameter_supported === true;
  const params = parsePastedCallback(pasted, { state, issuer: requiresIss ? context.as.issuer : undefined });
  const validated = validateCallback(context, params, state);
  return await exchangeAuthorizationCode(context, validated, { redirectUri, codeVerifier, signal, acrValues, maxAge, requestedAt });
}
