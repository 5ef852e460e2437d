/**
 * The device login (RFC 8628): show the code, open the verification page when a browser is at hand, then poll
 * honouring `interval`, +5 s on every `slow_down`, until approval, denial, expiry, timeout or cancel.
 *
 * @module
 */

import type { GrantResult } from "../protocol/code_exchange.ts";
import type { Platform } from "../contracts.ts";
import { type DeviceAuthorization, pollDeviceToken, requestDeviceAuthorization } from "../protocol/device_flow.ts";
import { CliAuthError, isCliAuthError } from "../common/errors.ts";
import { abortReason, sleep } from "./login_signal.ts";
import { printable } from "../common/printable.ts";
import type { ProtocolContext } from "../protocol/protocol_context.ts";
import type { RequestedAuthentication } from "../protocol/requested_authentication.ts";

/**
 * What the user needs to approve the device, as handed to `onDeviceCode`.
 *
 * @example Usage
 * ```ts
 * import type { DeviceCodeInfo } from "@x/cli-auth";
 * const show = (d: DeviceCodeInfo) => console.error(`Go to ${d.verificationUri} and enter ${d.userCode}`);
 * ```
 */
export interface DeviceCodeInfo {
  /** The short code the user types in. */
  userCode: string;
  /** Where the user goes to type the code. */
  verificationUri: string;
  /** The same page with the code filled in, when the server offers it. */
  verificationUriComplete?: string;
  /** Seconds until the code expires. */
  expiresIn: number;
}

/**
 * Options of {@link deviceLogin}.
 *
 * @example Usage
 * ```ts
 * import type { DeviceLoginOptions } from "@x/cli-auth";
 * const options: DeviceLoginOptions = { signal: AbortSignal.timeout(600_000), openBrowser: false };
 * ```
 */
export interface DeviceLoginOptions extends RequestedAuthentication {
  /** The login's signal (timeout and cancel). */
  signal: AbortSignal;
  /** Scopes to request (default: none sent, so the server's default applies). */
  scopes?: readonly string[];
  /** Further device authorization request parameters. */
  extraParams?: Record<string, string>;
  /** Shows the code (default: a block on stderr). */
  onDeviceCode?: (info: DeviceCodeInfo) => void;
  /** Open the verification page in a browser: `false`, a function, or `true` (default when a browser is at hand). */
  openBrowser?: boolean | ((url: string) => void | Promise<void>);
  /** When the login started, epoch ms (default: now): the ID token's `auth_time` is judged against it (`maxAge`). */
  requestedAt?: number;
}

/** The longest wait between polls when backing off after network failures. */
const MAX_BACKOFF_SECONDS = 60;

/**
 * The default device-code block on stderr.
 *
 * @param info the code and where to enter it
 * @returns the text
 *
 * @example Usage
 * ```ts
 * import { formatDeviceCode } from "@x/cli-auth/protocol";
 * console.error(formatDeviceCode({ userCode: "ABCD-EFGH", verificationUri: "https://example.com/device", expiresIn: 600 }));
 * ```
 */
export function formatDeviceCode(info: DeviceCodeInfo): string {
  const minutes = Math.max(1, Math.round(info.expiresIn / 60));
  // Server strings, printed: never with their control characters, whoever built `info`.
  const lines = [
    "",
    "To sign in, open this page in a browser on any device:",
    "",
    `  ${printable(info.verificationUri)}`,
    "",
    "and enter the code:",
    "",
    `  ${printable(info.userCode)}`,
    "",
  ];
  if (info.verificationUriComplete) lines.push(`(or open ${printable(info.verificationUriComplete)} directly)`, "");
  lines.push(`The code expires in ${minutes} minute${minutes === 1 ? "" : "s"}. Waiting for approval…`, "", "");
  return lines.join("\n");
}

/**
 * Runs the device login up to the tokens.
 *
 * @param context the protocol context
 * @param platform the runtime (stderr, browser)
 * @param options scopes, display, browser, the login signal
 * @returns the tokens and ID token claims
 * @throws {CliAuthError} `unsupported_flow`, `access_denied`, `device_code_expired`, `login_timeout`, `login_cancelled`, and the request's codes
 *
 * @example Usage
 * ```ts
 * import { createLoginSignal, deviceLogin, type Platform, type ProtocolContext } from "@x/cli-auth/protocol";
 * declare const context: ProtocolContext, platform: Platform;
 * const login = createLoginSignal({ timeoutMs: 600_000 });
 * try {
 *   const { tokens } = await deviceLogin(context, platform, { signal: login.signal });
 * } finally {
 *   login.dispose();
 * }
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.4
 */
export async function deviceLogin(
  context: ProtocolContext,
  platform: Platform,
  options: DeviceLoginOptions,
): Promise<GrantResult> {
  const { signal, acrValues, maxAge } = options;
  const requestedAt = options.requestedAt ?? Date.now();
  try {
    const device = await requestDeviceAuthorization(context, {
      scopes: options.scopes,
      extraParams: options.extraParams,
      acrValues,
      maxAge,
      signal,
    });
    show(platform, device, options);
    return await poll(context, device, signal, { acrValues, maxAge, requestedAt });
  } catch (error) {
    throw abortReason(error, signal);
  }
}

function show(platform: Platform, device: DeviceAuthorization, options: DeviceLoginOptions): void {
  // requestDeviceAuthorization() has taken the control characters out of these server strings already.
  const info: DeviceCodeInfo = {
    userCode: device.userCode,
    verificationUri: device.verificationUri,
    expiresIn: device.expiresIn,
  };
  if (device.verificationUriComplete) info.verificationUriComplete = device.verificationUriComplete;
  if (options.onDeviceCode) options.onDeviceCode(info);
  else platform.terminal.writeStderr(formatDeviceCode(info));
  const open = options.openBrowser ?? false;
  if (open === false) return;
  const url = device.verificationUriComplete ?? device.verificationUri;
  void (async () => {
    if (typeof open === "function") await open(url);
    else await platform.openBrowser(url);
  })().catch(() => {});
}

async function poll(
  context: ProtocolContext,
  device: DeviceAuthorization,
  signal: AbortSignal,
  requested: RequestedAuthentication & { requestedAt: number },
): Promise<GrantResult> {
  let interval = device.interval;
  let backoff = 0;
  for (;;) {
    await sleep((interval + backoff) * 1000, signal);
    if (Date.now() >= device.expiresAt) throw expired();
    let result;
    try {
      result = await pollDeviceToken(context, device.deviceCode, { ...requested, signal });
    } catch (error) {
      if (signal.aborted) throw error;
      // RFC 8628 §3.5: back off on connection trouble and keep trying until the code expires.
      if (isCliAuthError(error, "network_error", "timeout", "server_error")) {
        backoff = Math.min(MAX_BACKOFF_SECONDS, Math.max(interval, backoff * 2));
        continue;
      }
      if (isCliAuthError(error, "device_code_expired")) throw expired(error);
      throw error;
    }
    backoff = 0;
    if (result.status === "complete") return result;
    if (result.status === "slow_down") interval += 5;
  }
}

function expired(cause?: unknown): CliAuthError {
  return new CliAuthError("device_code_expired", "The device code expired before the sign-in was approved", {
    cause,
    hint: "Run the login again and enter the new code promptly",
  });
}
