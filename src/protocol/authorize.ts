/**
 * The authorization URL of the code flow (RFC 6749 §4.1.1 with PKCE, RFC 8707 resources).
 *
 * @module
 */

import { CliAuthError } from "../common/errors.ts";
import type { Pkce } from "./pkce.ts";
import type { ProtocolContext } from "./protocol_context.ts";
import { type RequestedAuthentication, requestedAuthenticationParameters } from "./requested_authentication.ts";

/**
 * What goes into an authorization URL besides the client and PKCE.
 *
 * @example Usage
 * ```ts
 * import type { AuthorizationUrlOptions } from "@x/cli-auth";
 * const options: AuthorizationUrlOptions = { redirectUri: "http://127.0.0.1:53682/callback", scopes: ["openid"] };
 * ```
 *
 * @example Step-up (RFC 9470)
 * ```ts
 * import type { AuthorizationUrlOptions } from "@x/cli-auth";
 * const options: AuthorizationUrlOptions = {
 *   redirectUri: "http://127.0.0.1:53682/callback", acrValues: ["urn:example:mfa"], maxAge: 0,
 * };
 * ```
 */
export interface AuthorizationUrlOptions extends RequestedAuthentication {
  /** The loopback redirect URI the listener serves. */
  redirectUri: string;
  /** Scopes to ask for. */
  scopes?: readonly string[];
  /** `prompt` (e.g. `"consent"`, `"login"`, `"select_account"`). */
  prompt?: string;
  /** `login_hint`: the account to preselect. */
  loginHint?: string;
  /** Further parameters (e.g. `audience` for Auth0, `access_type` for Google). */
  extraParams?: Record<string, string>;
}

/**
 * Builds the authorization URL: `response_type=code`, client ID, redirect URI, scopes, S256 challenge, state, the
 * context's resource indicators, and optional `prompt`, `login_hint`, `acr_values`, `max_age` and extra parameters
 * (which cannot override the protocol ones).
 *
 * @param context the protocol context
 * @param pkce the verifier/challenge and state from {@link createPkce}
 * @param options redirect URI, scopes and optional parameters
 * @returns the URL to open in the browser
 * @throws {CliAuthError} `unsupported_flow` when the server has no authorization endpoint
 *
 * @example Usage
 * ```ts
 * import { buildAuthorizationUrl, createPkce, createProtocolContext } from "@x/cli-auth/protocol";
 * const context = createProtocolContext(
 *   { issuer: "https://auth.example.com", authorization_endpoint: "https://auth.example.com/authorize" },
 *   { clientId: "my-cli" },
 * );
 * const url = buildAuthorizationUrl(context, await createPkce(), { redirectUri: "http://127.0.0.1:8080/callback" });
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 */
export function buildAuthorizationUrl(context: ProtocolContext, pkce: Pkce, options: AuthorizationUrlOptions): URL {
  const endpoint = context.as.authorization_endpoint;
  if (!endpoint) {
    throw new CliAuthError("unsupported_flow", "The authorization server has no authorization endpoint", {
      hint: 'Use `flow: "device"`, or give `endpoints.authorization`',
    });
  }
  const url = new URL(endpoint);
  const protocol = new Set(["response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method", "state"]);
  for (const [key, value] of Object.entries(options.extraParams ?? {})) {
    if (!protocol.has(key)) url.searchParams.set(key, value);
  }
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", context.client.client_id);
  url.searchParams.set("redirect_uri", options.redirectUri);
  if (options.scopes && options.scopes.length > 0) url.searchParams.set("scope", options.scopes.join(" "));
  url.searchParams.set("code_challenge", pkce.codeChallenge);
  url.searchParams.set("code_challenge_method", pkce.codeChallengeMethod);
  url.searchParams.set("state", pkce.state);
  if (context.resource.length > 0) {
    url.searchParams.delete("resource");
    for (const resource of context.resource) url.searchParams.append("resource", resource);
  }
  if (options.prompt) url.searchParams.set("prompt", options.prompt);
  if (options.loginHint) url.searchParams.set("login_hint", options.loginHint);
  for (const [key, value] of Object.entries(requestedAuthenticationParameters(options))) url.searchParams.set(key, value);
  return url;
}
