/**
 * `@x/cli-auth`: sign a command-line tool's user in (browser, device or paste), keep the session in the OS keychain,
 * and hand out fresh access tokens, on Deno, Bun and Node.
 *
 * @example Usage
 * ```ts
 * import { CliAuth } from "@x/cli-auth";
 * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
 * await auth.login();
 * console.log(await auth.getAccessToken());
 * ```
 *
 * @module
 */
import { CliAuth as CliAuthCore } from "./src/cli_auth.ts";
import type { CliAuthOptions } from "./src/options.ts";
import type { Platform } from "./src/contracts.ts";

// The adapters are imported on first use (a literal path, so compiled binaries include them): importing
// `@x/cli-auth` loads the facade, its options and the error class, and nothing of the runtime.
const loadPlatform = async (): Promise<Platform> => (await import("./adapters/platform.ts")).loadPlatform();

/**
 * Signs a command-line tool's user in and keeps the session, using the adapters of the running runtime (Deno, Bun
 * or Node): loopback listener, browser opener, keychain or file storage.
 *
 * @example Usage
 * ```ts
 * import { CliAuth } from "@x/cli-auth";
 * const auth = new CliAuth({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
 * const { user } = await auth.login();
 * console.error(`Signed in as ${user?.email ?? user?.sub}`);
 * ```
 */
export class CliAuth extends CliAuthCore {
  /**
   * Checks the options and prepares the instance; nothing is read, stored or requested until a method is called.
   *
   * @param options issuer, client, service and the rest of {@link CliAuthOptions}
   * @throws {CliAuthError} `invalid_options`
   */
  constructor(options: CliAuthOptions) {
    super(options, loadPlatform);
  }
}

export { DEFAULT_SCOPES } from "./src/options.ts";
export type { CliAuthOptions } from "./src/options.ts";
export type { AuthStatus } from "./src/session/status.ts";
export type { LoginFlow, LoginOptions, LoginResult } from "./src/login/login.ts";
export type { BeginLoginOptions, PendingLogin, ResumeLoginOptions, ResumeLoginResult } from "./src/login/pending_login.ts";
export type { Session, User } from "./src/session/session.ts";
export type { CallbackHandler, CallbackHandlerOptions } from "./src/login/callback.ts";
export type { CallbackPageInfo, CallbackPageRenderer } from "./src/login/pages.ts";
export type { AuthorizationRequestOptions, BrowserLoginOptions } from "./src/login/browser_login.ts";
export type { LoginSignal } from "./src/login/login_signal.ts";
export type { LoopbackServer, LoopbackServerOptions } from "./src/login/loopback_server.ts";
export { CliAuthError, isCliAuthError } from "./src/common/errors.ts";
export type { CliAuthErrorCode, CliAuthErrorOptions, Operation } from "./src/common/errors.ts";
export type { FetchLike, HttpOptions } from "./src/common/http.ts";
export type { ProxySetting } from "./src/transport/proxy_env.ts";
export type { AuthorizationServer, ServerEndpoints, ServerMetadataOptions } from "./src/common/discovery.ts";
export type { ClientOptions, ProtocolContext } from "./src/protocol/protocol_context.ts";
export type { Pkce } from "./src/protocol/pkce.ts";
export type { AuthorizationUrlOptions } from "./src/protocol/authorize.ts";
export type { CodeExchangeOptions, GrantResult } from "./src/protocol/code_exchange.ts";
export type { RequestedAuthentication } from "./src/protocol/requested_authentication.ts";
export type { UserInfo } from "./src/protocol/userinfo.ts";
export type { DeviceAuthorization, DevicePollResult } from "./src/protocol/device_flow.ts";
export type { TokenSet } from "./src/protocol/token_set.ts";
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
} from "./src/contracts.ts";
export type { FlowChoice, HeadlessReason } from "./src/login/flow_choice.ts";
export type { DeviceCodeInfo, DeviceLoginOptions } from "./src/login/device_login.ts";
export type { ManualAuthorization, ManualLoginOptions } from "./src/login/manual_login.ts";
export type { GetAccessTokenOptions } from "./src/session/refresher.ts";
export type { LogoutResult } from "./src/session/logout.ts";
export type { ResolvedToken } from "./src/api/resolve_token.ts";
export type { RetryOptions } from "./src/protocol/retry.ts";
export type { AuthenticatedFetchOptions, AuthenticatedFetchSession } from "./src/api/authenticated_fetch.ts";
export type { StoredDpopKey } from "./src/protocol/dpop.ts";
export type { ResourceServerMetadata } from "./src/protocol/resource_discovery.ts";
export type { RegisteredClient } from "./src/protocol/client_registration.ts";
export type { Client, ClientAuth, CryptoKeyPair, DPoPHandle, IDToken, TokenEndpointResponse } from "./src/protocol/oauth_types.ts";
// The runtime-neutral class `CliAuth` extends: the same API, with the platform supplied by the caller.
export type { CliAuth as CliAuthCore } from "./src/cli_auth.ts";
