/**
 * `@x/cli-auth/protocol`: the building blocks under `CliAuth`, for those who build their own flow — discovery,
 * PKCE, the authorization URL, the callback handler and pages, code exchange, refresh, revocation, userinfo, device
 * steps and the device/manual/browser logins, the loopback listener (on a {@link Listen} you give it), DPoP keys,
 * `auth.fetch`'s engine, resource discovery and client registration. Web APIs only (through oauth4webapi), like the
 * rest of `src/`.
 *
 * `@x/cli-auth` itself exports `CliAuth`, its errors and every type; this entry keeps the main import small.
 *
 * @example Usage
 * ```ts
 * import { buildAuthorizationUrl, createPkce, createProtocolContext, resolveAuthorizationServer } from "@x/cli-auth/protocol";
 * const as = await resolveAuthorizationServer({ issuer: "https://auth.example.com" });
 * const context = createProtocolContext(as, { clientId: "my-cli" });
 * const url = buildAuthorizationUrl(context, await createPkce(), { redirectUri: "http://127.0.0.1:8080/callback" });
 * ```
 *
 * @module
 */
export { DEFAULT_SCOPES } from "./options.ts";
export type { CliAuthOptions } from "./options.ts";
export type { AuthStatus } from "./session/status.ts";
export type { LoginFlow, LoginOptions, LoginResult } from "./login/login.ts";
export type { BeginLoginOptions, PendingLogin, ResumeLoginOptions, ResumeLoginResult } from "./login/pending_login.ts";
export { checkGivenToken } from "./login/token_login.ts";
export { pendingLoginKey } from "./names.ts";
export { parseSession, serializeSession, userFromClaims } from "./session/session.ts";
export type { Session, User } from "./session/session.ts";
export { createCallbackHandler } from "./login/callback.ts";
export type { CallbackHandler, CallbackHandlerOptions } from "./login/callback.ts";
export { escapeHtml, renderCallbackPage } from "./login/pages.ts";
export type { CallbackPageInfo, CallbackPageRenderer } from "./login/pages.ts";
export { startLoopbackServer } from "./login/loopback_server.ts";
export type { LoopbackServer, LoopbackServerOptions } from "./login/loopback_server.ts";
export { announceAuthorizationUrl, browserLogin } from "./login/browser_login.ts";
export type { AuthorizationRequestOptions, BrowserLoginOptions } from "./login/browser_login.ts";
export { createLoginSignal, DEFAULT_LOGIN_TIMEOUT_MS } from "./login/login_signal.ts";
export type { LoginSignal } from "./login/login_signal.ts";
export { CliAuthError, isCliAuthError } from "./common/errors.ts";
export { toCliAuthError } from "./common/error_mapping.ts";
export type { CliAuthErrorCode, CliAuthErrorOptions, Operation } from "./common/errors.ts";
export { DEFAULT_TIMEOUT_MS } from "./common/http.ts";
export type { FetchLike, HttpOptions } from "./common/http.ts";
export { proxyForUrl } from "./transport/proxy_env.ts";
export type { ProxySetting, ReadEnv } from "./transport/proxy_env.ts";
export { resolveAuthorizationServer } from "./common/discovery.ts";
export type { AuthorizationServer, ServerEndpoints, ServerMetadataOptions } from "./common/discovery.ts";
export { createProtocolContext } from "./protocol/protocol_context.ts";
export type { ClientOptions, ProtocolContext } from "./protocol/protocol_context.ts";
export { createPkce } from "./protocol/pkce.ts";
export type { Pkce } from "./protocol/pkce.ts";
export { buildAuthorizationUrl } from "./protocol/authorize.ts";
export type { AuthorizationUrlOptions } from "./protocol/authorize.ts";
export { exchangeAuthorizationCode, validateCallback } from "./protocol/code_exchange.ts";
export type { CodeExchangeOptions, GrantResult } from "./protocol/code_exchange.ts";
export {
  checkAuthenticationPerformed,
  checkRequestedAuthentication,
  requestedAuthenticationParameters,
} from "./protocol/requested_authentication.ts";
export type { RequestedAuthentication } from "./protocol/requested_authentication.ts";
export { refreshTokens } from "./protocol/refresh.ts";
export { revokeToken } from "./protocol/revoke.ts";
export { fetchUserInfo } from "./protocol/userinfo.ts";
export type { UserInfo } from "./protocol/userinfo.ts";
export { pollDeviceToken, requestDeviceAuthorization } from "./protocol/device_flow.ts";
export type { DeviceAuthorization, DevicePollResult } from "./protocol/device_flow.ts";
export { toTokenSet } from "./protocol/token_set.ts";
export type { TokenSet } from "./protocol/token_set.ts";
export type {
  CreateStore,
  CreateTransport,
  CredentialStore,
  EnvironmentSnapshot,
  Listen,
  Listener,
  ListenOptions,
  LockOptions,
  Logger,
  OpenBrowser,
  Platform,
  StorageKind,
  StorageOption,
  Terminal,
  TransportOptions,
  WithLock,
} from "./contracts.ts";
export { chooseFlow, headlessReason } from "./login/flow_choice.ts";
export type { FlowChoice, HeadlessReason } from "./login/flow_choice.ts";
export { deviceLogin, formatDeviceCode } from "./login/device_login.ts";
export type { DeviceCodeInfo, DeviceLoginOptions } from "./login/device_login.ts";
export { completeManualAuthorization, manualLogin, parsePastedCallback, startManualAuthorization } from "./login/manual_login.ts";
export type { ManualAuthorization, ManualLoginOptions } from "./login/manual_login.ts";
export type { GetAccessTokenOptions } from "./session/refresher.ts";
export type { LogoutResult } from "./session/logout.ts";
export type { ResolvedToken } from "./api/resolve_token.ts";
export { DEFAULT_REFRESH_SKEW_SECONDS, isFresh } from "./session/token_freshness.ts";
export { withRetry } from "./protocol/retry.ts";
export type { RetryOptions } from "./protocol/retry.ts";
export { authenticatedFetch } from "./api/authenticated_fetch.ts";
export type { AuthenticatedFetchOptions, AuthenticatedFetchSession } from "./api/authenticated_fetch.ts";
export { dpopHandle, generateDpopKey, importDpopKey } from "./protocol/dpop.ts";
export type { StoredDpopKey } from "./protocol/dpop.ts";
export { authorizationServerOf, discoverProtectedResource } from "./protocol/resource_discovery.ts";
export type { ResourceServerMetadata } from "./protocol/resource_discovery.ts";
export { registeredClientKey, registerPublicClient, storedClient } from "./protocol/client_registration.ts";
export type { RegisteredClient } from "./protocol/client_registration.ts";
export type { Client, ClientAuth, CryptoKeyPair, DPoPHandle, IDToken, TokenEndpointResponse } from "./protocol/oauth_types.ts";
export { CliAuth as CliAuthCore } from "./cli_auth.ts";
