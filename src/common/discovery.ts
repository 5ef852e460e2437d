/**
 * Authorization server metadata: OpenID Connect discovery, then RFC 8414, or endpoints given by hand.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { CliAuthError } from "./errors.ts";
import { toCliAuthError } from "./error_mapping.ts";
import { type HttpOptions, requestOptions } from "./http.ts";

/**
 * Endpoints given by hand, for servers without discovery (GitHub) or to override what discovery found.
 *
 * @example GitHub
 * ```ts
 * import type { ServerEndpoints } from "@x/cli-auth";
 * const github: ServerEndpoints = {
 *   authorization: "https://github.com/login/oauth/authorize",
 *   token: "https://github.com/login/oauth/access_token",
 *   deviceAuthorization: "https://github.com/login/device/code",
 * };
 * ```
 */
export interface ServerEndpoints {
  /** The authorization endpoint URL (`authorization_endpoint`), for the browser and paste flows. */
  authorization?: string;
  /** The token endpoint URL (`token_endpoint`); when given, discovery is skipped. */
  token?: string;
  /** The device authorization endpoint URL (`device_authorization_endpoint`, RFC 8628), for the device flow. */
  deviceAuthorization?: string;
  /** The token revocation endpoint URL (`revocation_endpoint`, RFC 7009), used by `logout()`. */
  revocation?: string;
  /** The OpenID Connect userinfo endpoint URL (`userinfo_endpoint`), where the user's identity is asked. */
  userinfo?: string;
  /** The token introspection endpoint URL (`introspection_endpoint`, RFC 7662). */
  introspection?: string;
  /** The client registration endpoint URL (`registration_endpoint`, RFC 7591), used when no `clientId` is given. */
  registration?: string;
  /** The URL of the server's JSON Web Key Set (`jwks_uri`). */
  jwks?: string;
}

/**
 * Where the authorization server's metadata comes from.
 *
 * @example Usage
 * ```ts
 * import type { ServerMetadataOptions } from "@x/cli-auth";
 * const options: ServerMetadataOptions = { issuer: "https://auth.example.com" };
 * ```
 */
export interface ServerMetadataOptions {
  /** The issuer identifier; discovered unless `endpoints.token` is given. */
  issuer?: string;
  /** Endpoints given by hand; with `token` set, no discovery happens. */
  endpoints?: ServerEndpoints;
  /** Transport options. */
  http?: HttpOptions;
  /** Cancels discovery. */
  signal?: AbortSignal;
}

/** The authorization server as oauth4webapi describes it. */
export type AuthorizationServer = oauth.AuthorizationServer;

/**
 * Resolves the authorization server: endpoints by hand when `endpoints.token` is given, otherwise OpenID Connect
 * discovery (`/.well-known/openid-configuration`), falling back to RFC 8414
 * (`/.well-known/oauth-authorization-server`) when the first is not there. Given endpoints override discovered ones.
 *
 * @param options issuer and/or endpoints, transport options
 * @returns the authorization server metadata
 * @throws {CliAuthError} `discovery_failed`, `issuer_mismatch`, `network_error`, `timeout`, `invalid_options`
 *
 * @example Usage
 * ```ts
 * import { resolveAuthorizationServer } from "@x/cli-auth/protocol";
 * const as = await resolveAuthorizationServer({ issuer: "https://auth.example.com" });
 * console.log(as.token_endpoint);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 * @see https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
 */
export async function resolveAuthorizationServer(options: ServerMetadataOptions): Promise<AuthorizationServer> {
  const { issuer, endpoints } = options;
  if (endpoints?.token) return fromEndpoints(issuer, endpoints);
  if (!issuer) {
    throw new CliAuthError("invalid_options", "Neither an issuer nor a token endpoint was given", {
      hint: "Set `issuer` (for discovery) or `endpoints.token`",
    });
  }
  const discovered = await discover(parseUrl(issuer, "issuer"), options.http ?? {}, options.signal);
  return endpoints ? { ...discovered, ...endpointMetadata(endpoints) } : discovered;
}

async function discover(issuer: URL, http: HttpOptions, signal?: AbortSignal): Promise<AuthorizationServer> {
  const failures: string[] = [];
  for (const algorithm of ["oidc", "oauth2"] as const) {
    let response: Response;
    try {
      response = await oauth.discoveryRequest(issuer, { ...requestOptions(http, "discovery", signal), algorithm });
    } catch (error) {
      const mapped = toCliAuthError(error, "discovery");
      // A body too large to read is refused before the request returns: still a discovery that failed.
      if (mapped.code !== "invalid_response") throw mapped;
      throw new CliAuthError("discovery_failed", `Discovery of "${issuer.href}" failed: ${mapped.message}`, {
        cause: mapped,
        status: mapped.status,
        hint: "Check the `issuer` URL, or give `endpoints` by hand",
      });
    }
    if (response.status === 404 || response.status === 405) {
      await response.body?.cancel().catch(() => {});
      failures.push(`${algorithm === "oidc" ? "OpenID Connect discovery" : "RFC 8414 metadata"}: HTTP ${response.status}`);
      continue;
    }
    try {
      return await oauth.processDiscoveryResponse(issuer, response);
    } catch (error) {
      const mapped = toCliAuthError(error, "discovery");
      if (mapped.code === "timeout" || mapped.code === "network_error") throw mapped;
      if (error instanceof oauth.OperationProcessingError && error.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
        throw new CliAuthError(
          "issuer_mismatch",
          `The discovery document at "${issuer.href}" names a different issuer`,
          { cause: mapped, hint: "Set `issuer` to exactly the issuer the server announces (check trailing slashes)" },
        );
      }
      throw new CliAuthError("discovery_failed", `Discovery of "${issuer.href}" failed: ${mapped.message}`, {
        cause: mapped,
        status: mapped.status,
        hint: "Check the `issuer` URL, or give `endpoints` by hand",
      });
    }
  }
  throw new CliAuthError(
    "discovery_failed",
    `No authorization server metadata found for "${issuer.href}" (${failures.join("; ")})`,
    { hint: "Check the `issuer` URL, or give `endpoints` by hand" },
  );
}

function fromEndpoints(issuer: string | undefined, endpoints: ServerEndpoints): AuthorizationServer {
  const token = parseUrl(endpoints.token!, "endpoints.token");
  // The issuer is compared as a string with the `iss` the server may send back (RFC 9207): keep it as given.
  if (issuer !== undefined) parseUrl(issuer, "issuer");
  return { issuer: issuer ?? token.origin, ...endpointMetadata(endpoints) };
}

function endpointMetadata(endpoints: ServerEndpoints): Partial<AuthorizationServer> {
  const metadata: Partial<AuthorizationServer> = {};
  const set = (key: keyof AuthorizationServer, value: string | undefined, name: string) => {
    if (value !== undefined) (metadata as Record<string, string>)[key] = parseUrl(value, `endpoints.${name}`).href;
  };
  set("authorization_endpoint", endpoints.authorization, "authorization");
  set("token_endpoint", endpoints.token, "token");
  set("device_authorization_endpoint", endpoints.deviceAuthorization, "deviceAuthorization");
  set("revocation_endpoint", endpoints.revocation, "revocation");
  set("userinfo_endpoint", endpoints.userinfo, "userinfo");
  set("introspection_endpoint", endpoints.introspection, "introspection");
  set("registration_endpoint", endpoints.registration, "registration");
  set("jwks_uri", endpoints.jwks, "jwks");
  return metadata;
}

/**
 * Parses a URL option, throwing `invalid_options` naming the option when it is not a URL.
 *
 * @param value the option's value
 * @param name the option's name, for the message
 * @returns the URL
 */
export function parseUrl(value: string | URL, name: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new CliAuthError("invalid_options", `The \`${name}\` option is not a valid URL`, {
      hint: `Give \`${name}\` as an absolute URL such as "https://auth.example.com"`,
    });
  }
}
