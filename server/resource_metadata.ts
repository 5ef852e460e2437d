/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the JSON document at `/.well-known/oauth-protected-resource`
 * that tells a client which authorization servers issue tokens for this API, so that a CLI given only the API's URL
 * can sign in (discover the server, register, ask for a token for this `resource`).
 *
 * @module
 */

import { CliAuthError } from "../src/common/errors.ts";
import { JWS_ALGORITHMS, type JwsAlgorithm } from "./jws_algorithms.ts";
import { json } from "./_json_response.ts";

/** The RFC 9728 §3 well-known suffix. */
const WELL_KNOWN = "/.well-known/oauth-protected-resource";

/**
 * What an API says about itself. Names are RFC 9728 §2's, in camelCase.
 *
 * @example Usage
 * ```ts
 * import type { ResourceMetadataOptions } from "@x/cli-auth/server";
 * const options: ResourceMetadataOptions = {
 *   resource: "https://api.example.com/",
 *   authorizationServers: ["https://auth.example.com"],
 *   scopesSupported: ["api:read", "api:write"],
 *   dpopSigningAlgValuesSupported: ["ES256"],
 *   resourceName: "Example API",
 * };
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-2
 */
export interface ResourceMetadataOptions {
  /**
   * The resource identifier: the API's https URL, exactly as clients send it as `resource` (RFC 8707) and as the
   * verifier's `audience` expects it. No fragment. `http:` only on a loopback host (local development).
   */
  resource: string;
  /** Issuer identifiers of the authorization servers whose tokens this API accepts (at least one). */
  authorizationServers: readonly string[];
  /** Scopes the API understands (`scopes_supported`). */
  scopesSupported?: readonly string[];
  /** How a token may be sent (`bearer_methods_supported`, default `["header"]`, the only way the verifier reads). */
  bearerMethodsSupported?: readonly ("header" | "body" | "query")[];
  /** DPoP proof algorithms accepted (`dpop_signing_alg_values_supported`): the verifier's `dpop.algorithms`. */
  dpopSigningAlgValuesSupported?: readonly JwsAlgorithm[];
  /** Whether only DPoP-bound tokens are accepted (`dpop_bound_access_tokens_required`): the verifier's `dpop.required`. */
  dpopBoundAccessTokensRequired?: boolean;
  /** A human-readable name (`resource_name`). */
  resourceName?: string;
  /** Developer documentation (`resource_documentation`). */
  resourceDocumentation?: string;
  /** The data usage policy (`resource_policy_uri`). */
  resourcePolicyUri?: string;
  /** The terms of service (`resource_tos_uri`). */
  resourceTosUri?: string;
  /** More members to serve as they are (extensions); they cannot replace the ones above. */
  additionalMetadata?: Record<string, unknown>;
}

/**
 * The URL of a resource's metadata (RFC 9728 §3.1): the well-known path goes between the host and the resource's
 * path, so that several APIs on one host each have their own (`https://example.com/api/v1` is described at
 * `https://example.com/.well-known/oauth-protected-resource/api/v1`). The same URL oauth4webapi's
 * `resourceDiscoveryRequest()` asks for; give it to `identityHandler` / `unauthorizedResponse` as `resourceMetadata`.
 *
 * @param resource the resource identifier
 * @returns the metadata URL
 * @throws {CliAuthError} `invalid_options` for a resource that is not an absolute https URL without fragment
 *
 * @example Usage
 * ```ts
 * import { resourceMetadataUrl } from "@x/cli-auth/server";
 * console.assert(
 *   resourceMetadataUrl("https://example.com/api/v1") === "https://example.com/.well-known/oauth-protected-resource/api/v1",
 * );
 * console.assert(resourceMetadataUrl("https://api.example.com/") === "https://api.example.com/.well-known/oauth-protected-resource");
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.1
 */
export function resourceMetadataUrl(resource: string): string {
  const url = parseResource(resource, "resource");
  url.pathname = url.pathname === "/" ? WELL_KNOWN : `${WELL_KNOWN}${url.pathname}`;
  return url.href;
}

/**
 * A `(request: Request) => Response` serving the API's protected-resource metadata as JSON at the path
 * {@link resourceMetadataUrl} names (mount it there, or in front of your routes: other paths get `404`). Answers
 * `GET` and `HEAD` with `200`, `Cache-Control: public, max-age=300` and `Access-Control-Allow-Origin: *` (the
 * document is public, and browser-based clients read it too); other methods get `405`.
 *
 * @param options the resource, its authorization servers and what else to say
 * @returns the handler
 * @throws {CliAuthError} `invalid_options` for a resource or authorization server that is not a usable URL, or no
 *   authorization server
 *
 * @example Announce the metadata and point 401s at it
 * ```ts
 * import { createVerifier, identityHandler, resourceMetadataHandler, resourceMetadataUrl } from "@x/cli-auth/server";
 * const resource = "https://api.example.com/";
 * const issuer = "https://auth.example.com";
 * const verifier = createVerifier({ issuer, audience: resource, dpop: { algorithms: ["ES256"] } });
 * const metadata = resourceMetadataHandler({
 *   resource,
 *   authorizationServers: [issuer],
 *   scopesSupported: ["api:read"],
 *   dpopSigningAlgValuesSupported: ["ES256"],
 * });
 * const me = identityHandler(verifier, { resourceMetadata: resourceMetadataUrl(resource) });
 *
 * export function fetch(request: Request): Promise<Response> | Response {
 *   const { pathname } = new URL(request.url);
 *   if (pathname.startsWith("/.well-known/oauth-protected-resource")) return metadata(request);
 *   if (pathname === "/me") return me(request);
 *   return new Response("Not found", { status: 404 });
 * }
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5.1
 */
export function resourceMetadataHandler(options: ResourceMetadataOptions): (request: Request) => Response {
  if (typeof options !== "object" || options === null) {
    throw new CliAuthError("invalid_options", "resourceMetadataHandler() needs an options object");
  }
  const path = new URL(resourceMetadataUrl(options.resource)).pathname;
  const servers = options.authorizationServers;
  if (!Array.isArray(servers) || servers.length === 0) {
    throw new CliAuthError("invalid_options", "The `authorizationServers` option must name at least one issuer", {
      hint: "Clients that know only the API's URL learn from it where to sign in",
    });
  }
  for (const server of servers) parseResource(server, "authorizationServers");
  const algorithms = options.dpopSigningAlgValuesSupported;
  if (algorithms !== undefined && (!Array.isArray(algorithms) || algorithms.some((a) => !JWS_ALGORITHMS.includes(a)))) {
    throw new CliAuthError(
      "invalid_options",
      `The \`dpopSigningAlgValuesSupported\` option may name only ${JWS_ALGORITHMS.join(", ")}`,
    );
  }
  const document: Record<string, unknown> = {
    ...options.additionalMetadata,
    resource: options.resource,
    authorization_servers: [...servers],
    bearer_methods_supported: [...(options.bearerMethodsSupported ?? ["header"])],
  };
  const optional: [string, unknown][] = [
    ["scopes_supported", options.scopesSupported && [...options.scopesSupported]],
    ["dpop_signing_alg_values_supported", algorithms && [...algorithms]],
    ["dpop_bound_access_tokens_required", options.dpopBoundAccessTokensRequired],
    ["resource_name", options.resourceName],
    ["resource_documentation", options.resourceDocumentation],
    ["resource_policy_uri", options.resourcePolicyUri],
    ["resource_tos_uri", options.resourceTosUri],
  ];
  for (const [name, value] of optional) {
    if (value !== undefined) document[name] = value;
  }
  const body = JSON.stringify(document);
  const headers = {
    "content-type": "application/json",
    "cache-control": "public, max-age=300",
    "access-control-allow-origin": "*",
  };

  return (request) => {
    if (new URL(request.url).pathname !== path) {
      return json(404, { error: "not_found", error_description: `The metadata of this resource is at ${path}` });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json(405, { error: "invalid_request", error_description: "Use GET" }, { allow: "GET, HEAD" });
    }
    return new Response(request.method === "HEAD" ? null : body, { status: 200, headers });
  };
}

/** An absolute https URL without fragment (http on a loopback host, for development), or `invalid_options`. */
function parseResource(value: unknown, name: string): URL {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  const loopback = url !== undefined && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (!url || url.hash !== "" || value === "" || String(value).includes("#") || !(url.protocol === "https:" || (url.protocol === "http:" && loopback))) {
    throw new CliAuthError("invalid_options", `The \`${name}\` option must hold https URLs without a fragment`, {
      hint: "http:// is allowed only on localhost, 127.0.0.1 and [::1], for local development",
    });
  }
  return url;
}
