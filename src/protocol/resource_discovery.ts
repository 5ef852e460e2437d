/**
 * Sign-in from nothing but a resource URL (RFC 9728): learn the protected resource's metadata — from the
 * `resource_metadata` parameter of its `401` challenge, else its well-known URL — and the authorization server it
 * names.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { CliAuthError } from "../common/errors.ts";
import { toCliAuthError } from "../common/error_mapping.ts";
import { DEFAULT_TIMEOUT_MS, guardedFetch, type HttpOptions, requestOptions, timeoutSignal } from "../common/http.ts";

/**
 * The resource's metadata, as oauth4webapi validated it.
 *
 * @example Usage
 * ```ts
 * import type { ResourceServerMetadata } from "@x/cli-auth";
 * const first = (m: ResourceServerMetadata) => m.authorization_servers?.[0];
 * ```
 */
export type ResourceServerMetadata = oauth.ResourceServer;

/**
 * Finds the `resource_metadata` URL the resource announces in a `401` challenge to an unauthenticated request.
 */
async function announcedMetadataUrl(resource: URL, http: HttpOptions, signal?: AbortSignal): Promise<URL | undefined> {
  let response: Response;
  try {
    response = await guardedFetch(http, "resource")(resource.href, {
      method: "GET",
      headers: { accept: "application/json" },
      redirect: "manual",
      signal: timeoutSignal(http.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal),
    });
  } catch (error) {
    throw toCliAuthError(error, "resource");
  }
  await response.body?.cancel().catch(() => {});
  if (response.status !== 401) return undefined;
  const header = response.headers.get("www-authenticate");
  const value = header ? /resource_metadata="([^"]+)"/i.exec(header)?.[1] : undefined;
  if (!value) return undefined;
  try {
    return new URL(value, resource);
  } catch {
    return undefined;
  }
}

/**
 * Learns the protected-resource metadata of `resource`: the URL its `401` challenge names in `resource_metadata`
 * (RFC 9728 §5.1), else `/.well-known/oauth-protected-resource` (§3). The metadata's `resource` must equal the
 * resource identifier.
 *
 * @param resource the resource identifier (the API's URL)
 * @param options transport options and a signal
 * @returns the metadata
 * @throws {CliAuthError} `discovery_failed`, `network_error`, `timeout`
 *
 * @example Usage
 * ```ts
 * import { discoverProtectedResource } from "@x/cli-auth/protocol";
 * const metadata = await discoverProtectedResource("https://api.example.com/");
 * console.log(metadata.authorization_servers);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9728
 */
export async function discoverProtectedResource(
  resource: string,
  options: { http?: HttpOptions; signal?: AbortSignal } = {},
): Promise<ResourceServerMetadata> {
  const http = options.http ?? {};
  let identifier: URL;
  try {
    identifier = new URL(resource);
  } catch {
    throw new CliAuthError("invalid_options", "The `resource` option is not a URL");
  }
  const announced = await announcedMetadataUrl(identifier, http, options.signal);
  try {
    let response: Response;
    if (announced) {
      if (announced.protocol !== "https:" && !http.allowInsecureRequests) {
        throw new CliAuthError("invalid_options", "The resource announced its metadata at a non-https URL", {
          hint: "Set `allowInsecureRequests: true` for a local development server",
        });
      }
      response = await guardedFetch(http, "resource")(announced.href, {
        headers: { accept: "application/json" },
        redirect: "manual",
        signal: timeoutSignal(http.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal),
      });
    } else {
      response = await oauth.resourceDiscoveryRequest(identifier, requestOptions(http, "resource", options.signal));
    }
    return await oauth.processResourceDiscoveryResponse(identifier, response);
  } catch (error) {
    const mapped = toCliAuthError(error, "resource");
    if (["network_error", "timeout", "invalid_options"].includes(mapped.code)) throw mapped;
    throw new CliAuthError("discovery_failed", `No protected-resource metadata for "${identifier.href}"`, {
      cause: mapped,
      hint: "The API must serve RFC 9728 metadata (/.well-known/oauth-protected-resource); otherwise configure `issuer` and `clientId`",
    });
  }
}

/**
 * The authorization server a resource's metadata names (the first of `authorization_servers`).
 *
 * @param metadata the resource's metadata
 * @returns the issuer identifier
 * @throws {CliAuthError} `discovery_failed` when it names none
 *
 * @example Usage
 * ```ts
 * import { authorizationServerOf } from "@x/cli-auth/protocol";
 * const issuer = authorizationServerOf({ resource: "https://api.example.com/", authorization_servers: ["https://auth.example.com"] });
 * ```
 */
export function authorizationServerOf(metadata: ResourceServerMetadata): string {
  const issuer = metadata.authorization_servers?.[0];
  if (typeof issuer !== "string" || issuer === "") {
    throw new CliAuthError("discovery_failed", `The resource "${metadata.resource}" names no authorization server`, {
      hint: "Its metadata needs `authorization_servers`; otherwise configure `issuer` and `clientId`",
    });
  }
  return issuer;
}
