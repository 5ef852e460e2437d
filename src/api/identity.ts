/**
 * `whoami()`: who the user is, asked fresh from the server every time — your API's identity endpoint with the
 * resolved token when one is configured (the stored login through `auth.fetch`'s engine), else userinfo with a valid
 * access token, refreshed once when userinfo refuses it (never with a token given with `loginWithToken`: that one goes
 * only to the identity endpoint). Also the reading of an identity endpoint's JSON, whatever
 * names its subject (`sub`, `subject`, `id`).
 *
 * @module
 */

import { CliAuthError, isCliAuthError } from "../common/errors.ts";
import type { Issuer } from "../issuer.ts";
import type { Config } from "../options.ts";
import type { UserInfo } from "../protocol/userinfo.ts";
import type { Refresher } from "../session/refresher.ts";
import { type User, userFromClaims } from "../session/session.ts";
import { apiSession } from "./api_session.ts";
import { resolveToken } from "./resolve_token.ts";

/** What `whoami()` works with: the configuration, the refresher and the authorization server (loaded when needed). */
export interface IdentityParts {
  /** The instance's configuration. */
  config: Config;
  /** Valid sessions and the refresh of a refused token. */
  refresher: () => Promise<Refresher>;
  /** The authorization server. */
  issuer: () => Promise<Issuer>;
}

/**
 * Who the user is (see `CliAuth.whoami`).
 *
 * @param parts the configuration, refresher and authorization server
 * @param options a `--token` value and a signal
 * @returns the identity
 * @throws {CliAuthError} `not_logged_in`, `session_expired`, `invalid_token`, `unsupported_flow`, `network_error`, `timeout`
 */
export async function whoami(parts: IdentityParts, options: { tokenFromArg?: string; signal?: AbortSignal } = {}): Promise<User> {
  const { config } = parts;
  const identityEndpoint = config.identityEndpoint;
  if (identityEndpoint) {
    const resolved = await resolveToken(config, parts.refresher, { tokenFromArg: options.tokenFromArg });
    if (resolved.source !== "oauth") {
      return await identityFrom(await getIdentity(config, identityEndpoint, resolved.token, options.signal), config.loginHint);
    }
    // The stored login: Bearer or DPoP, one refresh and retry on 401, as auth.fetch does.
    const { authenticatedFetch } = await import("./authenticated_fetch.ts");
    const response = await authenticatedFetch(
      apiSession(await parts.refresher(), parts.issuer),
      { apiOrigins: [new URL(identityEndpoint).origin], http: config.http, loginHint: config.loginHint },
      identityEndpoint,
      { headers: { accept: "application/json" }, signal: options.signal },
    );
    return await identityFrom(response, config.loginHint);
  }
  const { fetchUserInfo } = await import("../protocol/userinfo.ts");
  const fromArg = options.tokenFromArg?.trim();
  if (fromArg) {
    return userFromClaims(await fetchUserInfo(await (await parts.issuer()).context(options.signal), fromArg, { signal: options.signal }));
  }
  const refresher = await parts.refresher();
  const session = await refresher.validSession({ signal: options.signal });
  if (session.flow === "token") {
    // A token given with loginWithToken (a personal access token, an API key) is meant for the API: userinfo would
    // hand it to the authorization server, which did not issue it and is not among the API's origins.
    throw new CliAuthError("unsupported_flow", "whoami() needs `identityEndpoint` for a token given with loginWithToken()", {
      hint: "Set the `identityEndpoint` option to your API's route that names the token's user",
    });
  }
  const token = session.tokens.accessToken;
  const context = await (await parts.issuer()).context(options.signal, { session });
  let info: UserInfo;
  try {
    info = await fetchUserInfo(context, token, { signal: options.signal });
  } catch (error) {
    if (!isCliAuthError(error, "invalid_token")) throw error;
    const fresh = await refresher.refreshRejected(token, { signal: options.signal, known: session });
    info = await fetchUserInfo(context, fresh.tokens.accessToken, { signal: options.signal });
  }
  return userFromClaims(info);
}

/** GET the identity endpoint with a token given by argument or environment (no refresh: it is not ours). */
async function getIdentity(config: Config, endpoint: string, token: string, signal?: AbortSignal): Promise<Response> {
  const { http } = config;
  const { DEFAULT_TIMEOUT_MS, guardedFetch, timeoutSignal } = await import("../common/http.ts");
  return await guardedFetch(http, "resource")(endpoint, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    signal: timeoutSignal(http.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal),
    redirect: "error",
  });
}

/**
 * The user an identity endpoint answered with: its subject from `sub` (OpenID Connect), `subject` (this library's
 * `identityHandler`) or `id` (GitHub's `/user` and many APIs), its claims beside.
 *
 * @param response the identity endpoint's response
 * @param loginHint how hints tell the user to log in
 * @returns the user
 * @throws {CliAuthError} `invalid_token` (401), `server_error`, `invalid_response`
 */
export async function identityFrom(response: Response, loginHint: string): Promise<User> {
  if (response.status === 401) {
    await response.body?.cancel();
    throw new CliAuthError("invalid_token", "The API refused the token", { status: 401, hint: loginHint });
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
    throw (await import("../common/error_mapping.ts")).toCliAuthError(error, "resource");
  }
  const record = body as Record<string, unknown> | null;
  // `sub` (OpenID Connect), `subject` (this library's identityHandler), or `id` (GitHub's /user and many APIs).
  const rawId = record?.sub ?? record?.subject ?? record?.id;
  const sub = typeof rawId === "string" ? rawId : typeof rawId === "number" ? String(rawId) : undefined;
  if (!record || !sub) throw new CliAuthError("invalid_response", "The identity endpoint's answer names no subject");
  const claims = typeof record.claims === "object" && record.claims !== null ? record.claims as Record<string, unknown> : {};
  return userFromClaims({ ...claims, ...record, sub });
}
