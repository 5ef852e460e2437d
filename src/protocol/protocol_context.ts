/**
 * Everything a protocol request needs, resolved once: the authorization server, the client, how the client
 * authenticates, the transport options and the resource indicators.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import type { AuthorizationServer } from "../common/discovery.ts";
import type { HttpOptions } from "../common/http.ts";
import type { Client, ClientAuth, DPoPHandle } from "./oauth_types.ts";

/**
 * The client identity the library signs in as.
 *
 * @example Usage
 * ```ts
 * import type { ClientOptions } from "@x/cli-auth";
 * const client: ClientOptions = { clientId: "my-cli" };
 * ```
 */
export interface ClientOptions {
  /** The client ID registered at the authorization server. */
  clientId: string;
  /**
   * Only for providers that issue non-secret "installed app" secrets (Google): a CLI cannot keep a real secret.
   */
  clientSecret?: string;
}

/**
 * A resolved authorization server plus client: the first argument of every protocol function.
 *
 * @example Usage
 * ```ts
 * import { createProtocolContext, resolveAuthorizationServer } from "@x/cli-auth/protocol";
 * const as = await resolveAuthorizationServer({ issuer: "https://auth.example.com" });
 * const context = createProtocolContext(as, { clientId: "my-cli" });
 * ```
 */
export interface ProtocolContext {
  /** The authorization server's metadata, from discovery or the endpoints given by hand. */
  readonly as: AuthorizationServer;
  /** The client as oauth4webapi sends it (`client_id`, and `token_endpoint_auth_method: "none"` for a public one). */
  readonly client: Client;
  /** How the client authenticates at the token endpoint: `none`, HTTP Basic or the secret in the body. */
  readonly clientAuth: ClientAuth;
  /** Transport options for every request (`fetch`, `timeoutMs`, `allowInsecureRequests`). */
  readonly http: HttpOptions;
  /** RFC 8707 resource indicators sent on authorization and token requests. */
  readonly resource: readonly string[];
  /** An RFC 9449 DPoP handle, when the session is sender-constrained. */
  readonly dpop?: DPoPHandle;
}

/**
 * Builds a {@link ProtocolContext}. A public client (no secret) authenticates with `none`; with a secret, HTTP Basic
 * when the server lists it (RFC 6749's default), else the secret in the body (as GitHub expects).
 *
 * @param as the authorization server
 * @param options client ID and optional secret, transport options, resource indicators, DPoP handle
 * @returns the context
 *
 * @example Usage
 * ```ts
 * import { createProtocolContext } from "@x/cli-auth/protocol";
 * const context = createProtocolContext(
 *   { issuer: "https://auth.example.com", token_endpoint: "https://auth.example.com/token" },
 *   { clientId: "my-cli", http: { timeoutMs: 10_000 } },
 * );
 * ```
 */
export function createProtocolContext(
  as: AuthorizationServer,
  options: ClientOptions & { http?: HttpOptions; resource?: string | readonly string[]; dpop?: DPoPHandle },
): ProtocolContext {
  const client: oauth.Client = { client_id: options.clientId };
  let clientAuth: oauth.ClientAuth;
  if (options.clientSecret === undefined) {
    client.token_endpoint_auth_method = "none";
    clientAuth = oauth.None();
  } else if (as.token_endpoint_auth_methods_supported?.includes("client_secret_basic")) {
    clientAuth = oauth.ClientSecretBasic(options.clientSecret);
  } else {
    clientAuth = oauth.ClientSecretPost(options.clientSecret);
  }
  const resource = options.resource === undefined
    ? []
    : typeof options.resource === "string"
    ? [options.resource]
    : [...options.resource];
  return { as, client, clientAuth, http: options.http ?? {}, resource, dpop: options.dpop };
}

/**
 * The `resource` parameters (RFC 8707) to add to a request.
 *
 * @param context the protocol context
 * @returns URLSearchParams holding one `resource` per indicator
 */
export function resourceParameters(context: ProtocolContext): URLSearchParams {
  const params = new URLSearchParams();
  for (const resource of context.resource) params.append("resource", resource);
  return params;
}
