/**
 * `@x/cli-auth/protocol`: the building blocks under `CliAuth`, for those who build their own flow — discovery,
 * PKCE, the authorization URL, the callback handler and pages, code exchange, refresh, revocation, userinfo, device
 * steps and the device/manual/browser logins, DPoP keys, `auth.fetch`'s engine, resource discovery and client
 * registration. Web APIs only (through oauth4webapi), like the rest of `src/`.
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
export { DEFAULT_SCOPES } from "./cli_auth.ts";
export type { AuthStatus, CliAuthOptions, LoginFlow, LoginOptions, LoginResult } from "./cli_auth.ts";
export { parseSession, serializeSession, userFromClaims } from "./session.ts";
export type { Session, User } from "./session.ts";
export { createCallbackHandler } from "./callback.ts";
export type { CallbackHandler, CallbackHandlerOptions } from "./callback.ts";
export { escapeHtml, renderCallbackPage } from "./pages.ts";
export type { CallbackPageInfo, CallbackPageRenderer } from "./pages.ts";
export { announceAuthorizationUrl, browserLogin } from "./browser_login.ts";
export type { AuthorizationRequestOptions, BrowserLoginOptions } from "./browser_login.ts";
export { abortReason, cancelled, createLoginSignal, DEFAULT_LOGIN_TIMEOUT_MS, sleep } from "./login_signal.ts";
export type { LoginSignal } from "./login_signal.ts";
export { CliAuthError, describeOperation, isCliAuthError, timeoutError } from "./errors.ts";
export { networkError, toCliAuthError } from "./error_mapping.ts";
export type { CliAuthErrorCode, CliAuthErrorOptions, Operation } from "./errors.ts";
export { DEFAULT_TIMEOUT_MS } from "./http.ts";
export type { FetchLike, HttpOptions } from "./http.ts";
export { isLoopbackHost, matchesNoProxy, parseProxyUrl, proxyForUrl } from "./proxy_env.ts";
export type { ProxySetting, ReadEnv } from "./proxy_env.ts";
export type { CreateTransport, TransportOptions } from "./transport.ts";
export { proxyLabel, proxyRefusedError, untrustedCertificateError } from "./transport_errors.ts";
export { resolveAuthorizationServer } from "./discovery.ts";
export type { AuthorizationServer, ServerEndpoints, ServerMetadataOptions } from "./discovery.ts";
export { createProtocolContext } from "./protocol_context.ts";
export type { ClientOptions, ProtocolContext } from "./protocol_context.ts";
export { createPkce } from "./pkce.ts";
export type { Pkce } from "./pkce.ts";
export { buildAuthorizationUrl } from "./authorize.ts";
export type { AuthorizationUrlOptions } from "./authorize.ts";
export { exchangeAuthorizationCode, validateCallback } from "./code_exchange.ts";
export type { GrantResult } from "./code_exchange.ts";
export { refreshTokens } from "./refresh.ts";
export { revokeToken } from "./revoke.ts";
export { fetchUserInfo } from "./userinfo.ts";
export type { UserInfo } from "./userinfo.ts";
export { pollDeviceToken, requestDeviceAuthorization } from "./device_flow.ts";
export type { DeviceAuthorization, DevicePollResult } from "./device_flow.ts";
export { toTokenSet } from "./token_set.ts";
export type { TokenSet } from "./token_set.ts";
export type {
  CredentialStore,
  EnvironmentSnapshot,
  LockOptions,
  Logger,
  LoopbackServer,
  LoopbackServerOptions,
  Platform,
  StorageKind,
  StorageOption,
} from "./contracts.ts";
export { chooseFlow, headlessReason } from "./flow_choice.ts";
export type { FlowChoice, HeadlessReason } from "./flow_choice.ts";
export { deviceLogin, formatDeviceCode } from "./device_login.ts";
export type { DeviceCodeInfo, DeviceLoginOptions } from "./device_login.ts";
export { manualLogin, parsePastedCallback, PASTE_PROMPT } from "./manual_login.ts";
export type { ManualLoginOptions } from "./manual_login.ts";
export type { GetAccessTokenOptions, LogoutResult, ResolvedToken } from "./cli_auth.ts";
export { DEFAULT_REFRESH_SKEW_SECONDS, isFresh } from "./token_freshness.ts";
export { withRetry } from "./retry.ts";
export type { RetryOptions } from "./retry.ts";
export { authenticatedFetch } from "./authenticated_fetch.ts";
export type { AuthenticatedFetchOptions, AuthenticatedFetchSession } from "./authenticated_fetch.ts";
export { dpopHandle, generateDpopKey, importDpopKey, retryOnDpopNonce } from "./dpop.ts";
export type { StoredDpopKey } from "./dpop.ts";
export { authorizationServerOf, discoverProtectedResource } from "./resource_discovery.ts";
export type { ResourceServerMetadata } from "./resource_discovery.ts";
export { registeredClientKey, registerPublicClient, storedClient } from "./client_registration.ts";
export type { RegisteredClient } from "./client_registration.ts";
export type { Client, ClientAuth, CryptoKeyPair, DPoPHandle, IDToken, TokenEndpointResponse } from "./oauth_types.ts";
export { CliAuth as CliAuthCore } from "./cli_auth.ts";
