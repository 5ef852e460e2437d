/**
 * `beginLogin()`: starts a sign-in that another process can finish. Device flow (the default): one device
 * authorization request; manual: an authorization URL with PKCE. The secret half goes into the store
 * (`pending_login.ts`), replacing any pending login of the profile; what comes back holds no secret. A client the
 * server forgot since it was registered on the fly is registered again, once, as `login()` does.
 *
 * @module
 */

import { CliAuthError, isCliAuthError } from "../common/errors.ts";
import type { LoginParts } from "./login.ts";
import { normalResources } from "../options.ts";
import {
  type BeginLoginOptions,
  type PendingLogin,
  pendingLoginStore,
  publicPendingLogin,
  type StoredPendingLogin,
  withPendingLoginLock,
} from "./pending_login.ts";

/** How long a manual pending login can be finished: the server sets no expiry of its own. */
export const MANUAL_PENDING_LOGIN_TTL_MS = 15 * 60_000;

/**
 * Starts a sign-in another process can finish (see `CliAuth.beginLogin`).
 *
 * @param parts the configuration, authorization server and session store
 * @param options the flow, scopes, request parameters and a signal
 * @returns the pending login, without secrets
 */
export async function beginLogin(parts: LoginParts, options: BeginLoginOptions = {}): Promise<PendingLogin> {
  const flow = options.flow ?? "device";
  if (flow !== "device" && flow !== "manual") {
    throw new CliAuthError("invalid_options", `A login another process finishes cannot use the flow "${String(flow)}"`, {
      hint: 'Use "device" or "manual"',
    });
  }
  const { abortReason, createLoginSignal } = await import("./login_signal.ts");
  const login = createLoginSignal({ signal: options.signal });
  const signal = login.signal;
  try {
    const as = await parts.issuer.metadata(signal);
    let client = await parts.issuer.loginClient(as, signal);
    let pending: StoredPendingLogin;
    try {
      pending = await begin(parts, flow, options, signal, client.clientId);
    } catch (error) {
      // A client registered earlier and since forgotten by the server: register again, once.
      if (!client.registered || !isCliAuthError(error, "invalid_client")) throw error;
      client = await parts.issuer.loginClient(as, signal, true);
      pending = await begin(parts, flow, options, signal, client.clientId);
    }
    // Under the lock a resume takes to read and write it: a resume in flight cannot overwrite this one afterwards.
    await withPendingLoginLock(parts.config, () => pendingLoginStore(parts.config).write(pending));
    return publicPendingLogin(pending);
  } catch (error) {
    throw abortReason(error, signal);
  } finally {
    login.dispose();
  }
}

async function begin(
  { config, issuer }: LoginParts,
  flow: "device" | "manual",
  options: BeginLoginOptions,
  signal: AbortSignal,
  clientId: string,
): Promise<StoredPendingLogin> {
  const dpopModule = config.dpop ? await import("../protocol/dpop.ts") : undefined;
  const key = dpopModule ? await dpopModule.generateDpopKey() : undefined;
  const context = await issuer.context(signal, { clientId, dpop: key ? dpopModule!.dpopHandle(key.keyPair) : undefined });
  const scopes = options.scopes ?? config.scopes;
  const now = config.now();
  const resources = normalResources(config.resources);
  const common = { version: 1 as const, flow, issuer: context.as.issuer, clientId, resources, createdAt: now };
  const dpopKey = key ? { dpopKey: key.stored } : {};
  if (flow === "device") {
    const { requestDeviceAuthorization } = await import("../protocol/device_flow.ts");
    const device = await requestDeviceAuthorization(context, { scopes, extraParams: options.extraParams, signal, now: config.now });
    const pending: StoredPendingLogin = {
      ...common,
      ...dpopKey,
      expiresAt: device.expiresAt,
      deviceCode: device.deviceCode,
      userCode: device.userCode,
      verificationUri: device.verificationUri,
      interval: device.interval,
      // The first poll waits `interval` after the code was issued, as every later one after the previous poll.
      lastPollAt: now,
    };
    if (device.verificationUriComplete) pending.verificationUriComplete = device.verificationUriComplete;
    return pending;
  }
  const { startManualAuthorization } = await import("./manual_login.ts");
  const started = await startManualAuthorization(context, { ...options, scopes });
  return {
    ...common,
    ...dpopKey,
    expiresAt: now + MANUAL_PENDING_LOGIN_TTL_MS,
    authorizationUrl: started.url.href,
    redirectUri: started.redirectUri,
    state: started.state,
    codeVerifier: started.codeVerifier,
  };
}
