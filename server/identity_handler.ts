/**
 * A ready-made identity route: who the bearer of a token is, as JSON. The CLI's `identityEndpoint` option points
 * at it, so that `whoami()` works for tokens meant for your API (which the issuer's userinfo refuses).
 *
 * @module
 */

import { type CliAuthError, isCliAuthError } from "../src/common/errors.ts";
import { type ChallengeOptions, wwwAuthenticate } from "./challenge.ts";
import { json } from "./_json_response.ts";
import { unauthorizedResponse } from "./unauthorized_response.ts";
import type { Verifier, VerifyOptions } from "./verifier.ts";

/**
 * Options of {@link identityHandler}.
 *
 * @example Usage
 * ```ts
 * import type { IdentityHandlerOptions } from "@x/cli-auth/server";
 * const options: IdentityHandlerOptions = {
 *   scopes: ["api:read"],
 *   realm: "api",
 *   onError: (error) => console.error(error.code, error.message),
 * };
 * ```
 */
export interface IdentityHandlerOptions extends VerifyOptions, ChallengeOptions {
  /**
   * Called with every failure that is not the client's fault (the issuer unreachable, introspection refused): these
   * answer 503 or 500 with no detail, so log them here.
   */
  onError?: (error: CliAuthError) => void;
}

/**
 * A `(request: Request) => Promise<Response>` that answers who the bearer of the request's token is:
 *
 * - `200` `{ subject, type, scopes, claims }` (`Cache-Control: no-store`), for Bearer and DPoP requests alike;
 * - `401` with `WWW-Authenticate: Bearer error="invalid_token", error_description="…", DPoP algs="…"` for a bad
 *   token (the error on the `DPoP` challenge when the request used DPoP), bare `Bearer, DPoP algs="…"` challenges
 *   when the request has no token (RFC 6750 §3.1, RFC 9449 §7.2), `DPoP error="use_dpop_nonce"` plus a `DPoP-Nonce`
 *   header when the verifier demands server nonces;
 * - `401` with `error="insufficient_user_authentication", …, acr_values="…", max_age=N` when `acrValues` or
 *   `maxAge` are required and the token's sign-in falls short (step-up, RFC 9470);
 * - `403` with `error="insufficient_scope"` when `scopes` are required and missing;
 * - `503` (`Retry-After: 5`) when the issuer cannot be reached, `500` for a server misconfiguration;
 * - `405` for methods other than GET and HEAD.
 *
 * Failures are answered by {@link unauthorizedResponse}; give `resourceMetadata` (see `resourceMetadataUrl`) so
 * that clients can find the authorization server from a `401` (RFC 9728 §5.1).
 *
 * Every answer is JSON and says `Cache-Control: no-store`. It plugs into Deno's and Bun's `serve`, Hono
 * (`app.get("/me", (c) => handler(c.req.raw))`), Next route handlers (`export const GET = handler`) and Workers.
 *
 * @param verifier what `createVerifier` returned
 * @param options required scopes, accepted token kinds, challenge parameters, an error callback
 * @returns the handler; it never rejects: every failure is an HTTP answer
 *
 * @example Deno, Bun, or any Fetch-API server
 * ```ts
 * import { createVerifier, identityHandler } from "@x/cli-auth/server";
 * const verifier = createVerifier({ issuer: "https://auth.example.com", audience: "https://api.example.com" });
 * const whoami = identityHandler(verifier);
 * const response = await whoami(new Request("https://api.example.com/me"));
 * console.assert(response.status === 401);
 * // Deno, Bun: serve({ fetch: (request) => new URL(request.url).pathname === "/me" ? whoami(request) : notFound })
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 */
export function identityHandler(
  verifier: Pick<Verifier, "verifyRequest">,
  options: IdentityHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const { onError, realm, resourceMetadata, accepts, scopes, acrValues, maxAge } = options;
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json(405, { error: "invalid_request", error_description: "Use GET" }, { allow: "GET, HEAD" });
    }
    try {
      const { subject, type, scopes: granted, claims } = await verifier.verifyRequest(request, {
        accepts,
        scopes,
        acrValues,
        maxAge,
      });
      return json(200, { subject, type, scopes: granted, claims }, { vary: "authorization" });
    } catch (error) {
      // Failures that are not the client's fault answer 503/500 without detail: report them.
      if (!isCliAuthError(error) || wwwAuthenticate(error) === undefined) onError?.(error as CliAuthError);
      return unauthorizedResponse(error, { realm, resourceMetadata });
    }
  };
}
