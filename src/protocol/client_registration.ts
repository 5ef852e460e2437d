/**
 * A public client for this CLI registered on the fly (RFC 7591) when no `clientId` is configured, kept in the
 * credential store per (authorization server, service) and reused by later logins.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import type { CredentialStore } from "../contracts.ts";
import type { AuthorizationServer } from "../common/discovery.ts";
import { CliAuthError } from "../common/errors.ts";
import { toCliAuthError } from "../common/error_mapping.ts";
import { type HttpOptions, requestOptions } from "../common/http.ts";
import { registeredClientKey } from "../names.ts";

/** The device grant's type. */
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/**
 * A client registration kept in the store.
 *
 * @example Usage
 * ```ts
 * import type { RegisteredClient } from "@x/cli-auth";
 * const id = (client: RegisteredClient) => client.clientId;
 * ```
 */
export interface RegisteredClient {
  /** The issuer identifier of the authorization server the client is registered at. */
  issuer: string;
  /** The `client_id` the registration endpoint issued. */
  clientId: string;
  /** When the client was registered, epoch ms. */
  registeredAt: number;
}

// The key, and the namespace it lives in, are defined with every other name rule in names.ts.
export { registeredClientKey };

/**
 * The stored registration for `as`, if any.
 *
 * @param store the credential store
 * @param as the authorization server
 * @returns the registration, or `undefined`
 *
 * @example Usage
 * ```ts
 * import { storedClient, type AuthorizationServer, type CredentialStore } from "@x/cli-auth/protocol";
 * declare const store: CredentialStore, as: AuthorizationServer;
 * const client = await storedClient(store, as);
 * ```
 */
export async function storedClient(store: CredentialStore, as: AuthorizationServer): Promise<RegisteredClient | undefined> {
  const value = await store.get(registeredClientKey(as.issuer));
  if (value === null) return undefined;
  try {
    const parsed = JSON.parse(value) as RegisteredClient;
    return typeof parsed.clientId === "string" && parsed.issuer === as.issuer ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Registers a native public client (loopback redirect URIs, no client authentication, the code, refresh and device
 * grants the server supports) and stores it.
 *
 * @param as the authorization server
 * @param store where to keep the registration
 * @param options client name, callback path, transport, signal, clock
 * @returns the registration
 * @throws {CliAuthError} `unsupported_flow` (no registration endpoint), `invalid_client`, `network_error`, `timeout`, `invalid_response`
 *
 * @example Usage
 * ```ts
 * import { registerPublicClient, type AuthorizationServer, type CredentialStore } from "@x/cli-auth/protocol";
 * declare const as: AuthorizationServer, store: CredentialStore;
 * const { clientId } = await registerPublicClient(as, store, { clientName: "my-cli" });
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 */
export async function registerPublicClient(
  as: AuthorizationServer,
  store: CredentialStore,
  options: { clientName: string; callbackPath?: string; http?: HttpOptions; signal?: AbortSignal; now?: number; dpop?: boolean },
): Promise<RegisteredClient> {
  if (!as.registration_endpoint) {
    throw new CliAuthError("unsupported_flow", `The authorization server "${as.issuer}" offers no client registration`, {
      hint: "Register a public client for this CLI there and set `clientId`",
    });
  }
  const supported = as.grant_types_supported;
  const grants = ["authorization_code", "refresh_token"];
  if (as.device_authorization_endpoint && (!supported || supported.includes(DEVICE_GRANT))) grants.push(DEVICE_GRANT);
  const path = options.callbackPath ?? "/callback";
  const metadata: Partial<oauth.OmitSymbolProperties<oauth.Client>> = {
    client_name: options.clientName,
    application_type: "native",
    redirect_uris: [`http://127.0.0.1${path}`, `http://[::1]${path}`],
    token_endpoint_auth_method: "none",
    grant_types: supported ? grants.filter((g) => supported.includes(g)) : grants,
    response_types: ["code"],
  };
  if (options.dpop) metadata.dpop_bound_access_tokens = true;
  let registered: oauth.OmitSymbolProperties<oauth.Client>;
  try {
    const response = await oauth.dynamicClientRegistrationRequest(
      as,
      metadata,
      requestOptions(options.http ?? {}, "registration", options.signal),
    );
    registered = await oauth.processDynamicClientRegistrationResponse(response);
  } catch (error) {
    throw toCliAuthError(error, "registration");
  }
  const client: RegisteredClient = { issuer: as.issuer, clientId: registered.client_id, registeredAt: options.now ?? Date.now() };
  await store.set(registeredClientKey(as.issuer), JSON.stringify(client));
  return client;
}
