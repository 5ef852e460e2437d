// Real access tokens from the test provider: a code flow with PKCE for a resource (RFC 8707), completed by the
// scripted user, as the CLI would do it; DPoP-bound (RFC 9449) when given a key pair.
import * as oauth from "oauth4webapi";
import { buildAuthorizationUrl, createPkce, createProtocolContext, exchangeAuthorizationCode, resolveAuthorizationServer, type TokenSet, validateCallback } from "../../../src/mod.ts";
import { authorizeWithoutBrowser } from "../../support/interact.ts";

export const http = { allowInsecureRequests: true, timeoutMs: 10_000 };
/** The API's client at the test provider, for token introspection (test/support/provider_server.mjs). */
export const introspection = { clientId: "api-server", clientSecret: "api-server-secret" };
const REDIRECT = "http://127.0.0.1:41112/callback";

/**
 * Signs `login` in at the provider and returns the tokens, asking for `resource` when given. With `dpop`, the token
 * request carries proofs made with that key pair (and retries once on `use_dpop_nonce`), so the tokens are bound to it.
 * `extraParams` go on the authorization request (e.g. `acr_values`, `max_age`).
 */
export async function issueTokens(
  issuer: string,
  options: {
    resource?: string;
    scopes?: string[];
    login?: string;
    dpop?: CryptoKeyPair;
    extraParams?: Record<string, string>;
  } = {},
): Promise<TokenSet> {
  const as = await resolveAuthorizationServer({ issuer, http });
  const dpop = options.dpop ? oauth.DPoP({}, options.dpop) : undefined;
  const context = createProtocolContext(as, { clientId: "cli", http, resource: options.resource, dpop });
  const pkce = await createPkce();
  const url = buildAuthorizationUrl(context, pkce, {
    redirectUri: REDIRECT,
    scopes: options.scopes ?? ["openid", "api:read", "offline_access"],
    extraParams: options.extraParams,
  });
  const callback = await authorizeWithoutBrowser(url, { login: options.login ?? "alice" });
  const params = validateCallback(context, callback, pkce.state);
  const { tokens } = await exchangeAuthorizationCode(context, params, { redirectUri: REDIRECT, codeVerifier: pkce.codeVerifier });
  return tokens;
}
