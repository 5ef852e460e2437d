/**
 * `@x/cli-auth`: sign a command-line tool's user in (browser, device or paste), keep the session in the OS keychain,
 * and hand out fresh access tokens, on Deno, Bun and Node.
 *
 * @module
 */
export { CliAuthError, isCliAuthError, toCliAuthError } from "./src/errors.ts";
export type { CliAuthErrorCode, CliAuthErrorOptions, Operation } from "./src/errors.ts";
export { DEFAULT_TIMEOUT_MS } from "./src/http.ts";
export type { FetchLike, HttpOptions } from "./src/http.ts";
export { resolveAuthorizationServer } from "./src/discovery.ts";
export type { AuthorizationServer, ServerEndpoints, ServerMetadataOptions } from "./src/discovery.ts";
export { createProtocolContext } from "./src/protocol_context.ts";
export type { ClientOptions, ProtocolContext } from "./src/protocol_context.ts";
export { createPkce } from "./src/pkce.ts";
export type { Pkce } from "./src/pkce.ts";
export { buildAuthorizationUrl } from "./src/authorize.ts";
export type { AuthorizationUrlOptions } from "./src/authorize.ts";
export { exchangeAuthorizationCode, validateCallback } from "./src/code_exchange.ts";
export type { GrantResult } from "./src/code_exchange.ts";
export { refreshTokens } from "./src/refresh.ts";
export { revokeToken } from "./src/revoke.ts";
export { fetchUserInfo } from "./src/userinfo.ts";
export type { UserInfo } from "./src/userinfo.ts";
export { pollDeviceToken, requestDeviceAuthorization } from "./src/device_flow.ts";
export type { DeviceAuthorization, DevicePollResult } from "./src/device_flow.ts";
export { toTokenSet } from "./src/token_set.ts";
export type { TokenSet } from "./src/token_set.ts";
export type { CredentialStore, Logger, StorageKind } from "./src/contracts.ts";
