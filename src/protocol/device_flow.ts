/**
 * The protocol steps of the device authorization grant (RFC 8628): the device authorization request and one poll
 * of the token endpoint. The polling loop (interval, `slow_down`, expiry, cancellation) lives with the login.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { CliAuthError } from "../common/errors.ts";
import { toCliAuthError } from "../common/error_mapping.ts";
import { retryOnDpopNonce } from "./dpop.ts";
import { requestOptions } from "../common/http.ts";
import { printable } from "../common/printable.ts";
import { type GrantResult, grantResult } from "./code_exchange.ts";
import { type ProtocolContext, resourceParameters } from "./protocol_context.ts";
import {
  checkAuthenticationPerformed,
  clientRequiringAuthTime,
  type RequestedAuthentication,
  requestedAuthenticationParameters,
} from "./requested_authentication.ts";

/**
 * What the user needs to approve this device, and what the client needs to poll.
 *
 * @example Usage
 * ```ts
 * import type { DeviceAuthorization } from "@x/cli-auth";
 * const show = (d: DeviceAuthorization) => `Open ${d.verificationUri} and enter ${d.userCode}`;
 * ```
 */
export interface DeviceAuthorization {
  /** The device code: secret, used only to poll. */
  deviceCode: string;
  /** The short code the user types in (without control characters, as are both URIs). */
  userCode: string;
  /** Where the user goes to type the code. */
  verificationUri: string;
  /** The same page with the code filled in, when the server offers it. */
  verificationUriComplete?: string;
  /** Seconds until the codes expire. */
  expiresIn: number;
  /** When the codes expire, epoch ms. */
  expiresAt: number;
  /** Seconds to wait between polls (5 when the server does not say, RFC 8628 §3.2). */
  interval: number;
}

/**
 * The outcome of one poll: keep waiting, wait longer, or done.
 *
 * @example Usage
 * ```ts
 * import type { DevicePollResult } from "@x/cli-auth";
 * const done = (r: DevicePollResult) => r.status === "complete";
 * ```
 */
export type DevicePollResult =
  | { status: "authorization_pending" }
  | { status: "slow_down" }
  | ({ status: "complete" } & GrantResult);

/**
 * Requests a device code and user code (RFC 8628 §3.1), sending scopes and resource indicators, and `acr_values` /
 * `max_age` when asked (RFC 8628 leaves further parameters to the server; oidc-provider, for one, takes them).
 *
 * @param context the protocol context
 * @param options scopes, the sign-in asked for, extra parameters, an optional signal and clock
 * @returns the device authorization
 * @throws {CliAuthError} `unsupported_flow` (no device authorization endpoint), `invalid_client`, `invalid_scope`, `network_error`, `timeout`, `server_error`, `invalid_response`
 *
 * @example Usage
 * ```ts
 * import { requestDeviceAuthorization, type ProtocolContext } from "@x/cli-auth/protocol";
 * declare const context: ProtocolContext;
 * const device = await requestDeviceAuthorization(context, { scopes: ["openid", "offline_access"] });
 * console.error(`Open ${device.verificationUri} and enter ${device.userCode}`);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.1
 */
export async function requestDeviceAuthorization(
  context: ProtocolContext,
  options: RequestedAuthentication & {
    scopes?: readonly string[];
    extraParams?: Record<string, string>;
    signal?: AbortSignal;
    now?: () => number;
  } = {},
): Promise<DeviceAuthorization> {
  const { as, client, clientAuth } = context;
  if (!as.device_authorization_endpoint) {
    throw new CliAuthError("unsupported_flow", "The authorization server does not offer the device flow", {
      hint: 'Use `flow: "browser"` (or `"manual"` on a remote shell), or give `endpoints.deviceAuthorization`',
    });
  }
  const parameters = resourceParameters(context);
  for (const [key, value] of Object.entries(options.extraParams ?? {})) parameters.set(key, value);
  if (options.scopes && options.scopes.length > 0) parameters.set("scope", options.scopes.join(" "));
  for (const [key, value] of Object.entries(requestedAuthenticationParameters(options))) parameters.set(key, value);
  try {
    const response = await oauth.deviceAuthorizationRequest(
      as,
      client,
      clientAuth,
      parameters,
      requestOptions(context.http, "device_authorization", options.signal),
    );
    const result = await oauth.processDeviceAuthorizationResponse(as, client, response);
    const now = options.now?.() ?? Date.now();
    // What the user is shown comes without control characters: the server chose it, and it ends up on a terminal.
    const device: DeviceAuthorization = {
      deviceCode: result.device_code,
      userCode: printable(result.user_code),
      verificationUri: printable(result.verification_uri),
      expiresIn: result.expires_in,
      expiresAt: now + result.expires_in * 1000,
      interval: typeof result.interval === "number" && result.interval > 0 ? result.interval : 5,
    };
    if (result.verification_uri_complete) device.verificationUriComplete = printable(result.verification_uri_complete);
    return device;
  } catch (error) {
    throw toCliAuthError(error, "device_authorization");
  }
}

/**
 * Polls the token endpoint once with the device code (RFC 8628 §3.4). `authorization_pending` and `slow_down` are
 * results, not errors; the caller waits `interval` (plus 5 s after each `slow_down`, §3.5) and polls again.
 *
 * With `acrValues` / `maxAge` (what the device authorization request asked for), the ID token's `acr` and
 * `auth_time` are checked against them.
 *
 * @param context the protocol context
 * @param deviceCode the device code from {@link requestDeviceAuthorization}
 * @param options the sign-in asked for and when (`requestedAt`, epoch ms), an optional signal and clock
 * @returns pending, slow down, or the tokens
 * @throws {CliAuthError} `access_denied` (also: the server did not perform the requested authentication), `device_code_expired`, `network_error`, `timeout`, `server_error`, `invalid_response`
 *
 * @example Usage
 * ```ts
 * import { pollDeviceToken, type ProtocolContext } from "@x/cli-auth/protocol";
 * declare const context: ProtocolContext, deviceCode: string;
 * const result = await pollDeviceToken(context, deviceCode);
 * if (result.status === "complete") console.log(result.tokens.tokenType);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.4
 */
export async function pollDeviceToken(
  context: ProtocolContext,
  deviceCode: string,
  options: RequestedAuthentication & { signal?: AbortSignal; now?: () => number; requestedAt?: number } = {},
): Promise<DevicePollResult> {
  const { as, clientAuth } = context;
  const client = clientRequiringAuthTime(context.client, options);
  try {
    const result = await retryOnDpopNonce(context.dpop, async () => {
      const response = await oauth.deviceCodeGrantRequest(as, client, clientAuth, deviceCode, {
        ...requestOptions(context.http, "device_token", options.signal),
        additionalParameters: resourceParameters(context),
        DPoP: context.dpop,
      });
      return await oauth.processDeviceCodeResponse(as, client, response);
    });
    const now = options.now?.() ?? Date.now();
    const grant = grantResult(result, now);
    checkAuthenticationPerformed(grant.claims, options, options.requestedAt ?? now);
    return { status: "complete", ...grant };
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) {
      if (error.error === "authorization_pending") return { status: "authorization_pending" };
      if (error.error === "slow_down") return { status: "slow_down" };
    }
    throw toCliAuthError(error, "device_token");
  }
}
