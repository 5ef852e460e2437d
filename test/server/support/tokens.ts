// Real access tokens from the test provider: a code flow with PKCE for a resource (RFC 8707), completed by the
// scripted user, as the CLI would do it.
import {
  buildAuthorizationUrl,
  createPkce,
  createProtocolContext,
  exchangeAuthorizationCode,
  resolveAuthorizationServer,
  type TokenSet,
  validateCallback,
} from "../../../mod.ts";
import { authorizeWithoutBrowser } from "../../support/interact.ts";

export const http = { allowInsecureRequests: true, timeoutMs: 10_000 };
const REDIRECT = "http://127.0.0.1:41112/callback";

/** Signs `login` in at the provider and returns the tokens, asking for `resource` when given. */
export async function issueTokens(
  issuer: string,
  options: { resource?: string; scopes?: string[]; login?: string } = {},
): Promise<TokenSet> {
  const as = await resolveAuthorizationServer({ issuer, http });
  const context = createProtocolContext(as, { clientId: "cli", http, resource: options.resource });
  const pkce = await createPkce();
  const url = buildAuthorizationUrl(context, pkce, {
    redirectUri: REDIRECT,
    scopes: options.scopes ?? ["openid", "api:read", "offline_access"],
  });
  const callback = await authorizeWithoutBrowser(url, { login: options.login ?? "alice" });
  const params = validateCallback(context, callback, pkce.state);
  const { tokens } = await exchangeAuthorizationCode(context, params, { redirectUri: REDIRECT, codeVerifier: pkce.codeVerifier });
  return tokens;
}
