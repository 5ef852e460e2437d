/**
 * The HTTP answer to a failed verification, for any route: status, `WWW-Authenticate` challenges, `DPoP-Nonce`, and
 * a small JSON body, so that every route of an API refuses tokens the same way `identityHandler` does.
 *
 * @module
 */

import { isCliAuthError } from "../src/common/errors.ts";
import { type ChallengeOptions, dpopNonceOf, wwwAuthenticate } from "./challenge.ts";
import { json } from "./_json_response.ts";

/** Codes that mean the issuer could not be asked right now: the client may simply retry. */
const UNAVAILABLE = new Set(["network_error", "timeout", "server_error", "discovery_failed"]);

/**
 * The response for what `verifyRequest` threw:
 *
 * - `401` for `invalid_token` and `insufficient_user_authentication` (step-up, RFC 9470: the challenge carries
 *   `acr_values` and `max_age`) and `403` for `insufficient_scope`, with the `WWW-Authenticate` challenges of
 *   {@link wwwAuthenticate} (`Bearer` and `DPoP`, the error on the scheme the request used, `realm` and RFC 9728
 *   `resource_metadata` when given), a `DPoP-Nonce` header with a `use_dpop_nonce` error (RFC 9449 §9), and
 *   `{ error, error_description }` as JSON (no `error` when the request carried no credentials, RFC 6750 §3.1);
 * - `503` with `Retry-After: 5` when the issuer could not be asked (`network_error`, `timeout`, `server_error`,
 *   `discovery_failed`);
 * - `500` for anything else (a misconfiguration, or a value that is not a `CliAuthError`), with no detail.
 *
 * Every answer says `Cache-Control: no-store`. Log the 503 and 500 causes yourself: the body tells the client nothing.
 *
 * @param error what `verifyRequest` threw (anything: a non-`CliAuthError` answers 500)
 * @param options `realm` and `resourceMetadata` (the URL of your `/.well-known/oauth-protected-resource`)
 * @returns the response
 *
 * @example Any route of a Fetch-API server
 * ```ts
 * import { createVerifier, resourceMetadataUrl, unauthorizedResponse } from "@x/cli-auth/server";
 * const verifier = createVerifier({ issuer: "https://auth.example.com", audience: "https://api.example.com/" });
 * const resourceMetadata = resourceMetadataUrl("https://api.example.com/");
 *
 * export async function listProjects(request: Request): Promise<Response> {
 *   try {
 *     const { subject } = await verifier.verifyRequest(request, { scopes: ["projects:read"] });
 *     return Response.json({ owner: subject, projects: [] });
 *   } catch (error) {
 *     return unauthorizedResponse(error, { resourceMetadata });
 *   }
 * }
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 */
export function unauthorizedResponse(error: unknown, options: ChallengeOptions = {}): Response {
  if (!isCliAuthError(error)) {
    return json(500, { error: "server_error", error_description: "The access token could not be checked" });
  }
  const challenge = wwwAuthenticate(error, options);
  if (challenge !== undefined) {
    const headers: Record<string, string> = { "www-authenticate": challenge };
    const nonce = dpopNonceOf(error);
    if (nonce !== undefined) headers["dpop-nonce"] = nonce;
    const body = error.error === undefined
      ? { error_description: error.errorDescription }
      : { error: error.error, error_description: error.errorDescription };
    return json(error.code === "insufficient_scope" ? 403 : 401, body, headers);
  }
  if (UNAVAILABLE.has(error.code)) {
    return json(503, {
      error: "temporarily_unavailable",
      error_description: "The access token could not be checked right now; try again shortly",
    }, { "retry-after": "5" });
  }
  return json(500, { error: "server_error", error_description: "The access token could not be checked" });
}
