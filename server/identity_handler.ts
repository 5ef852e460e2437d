/**
 * A ready-made identity route: who the bearer of a token is, as JSON. The CLI's `identityEndpoint` option points
 * at it, so that `whoami()` works for tokens meant for your API (which the issuer's userinfo refuses).
 *
 * @module
 */

import type { CliAuthError } from "../src/errors.ts";
import { bearerChallenge, type ChallengeOptions } from "./challenge.ts";
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

/** Codes that mean the issuer could not be asked right now: the client may simply retry. */
const UNAVAILABLE = new Set(["network_error", "timeout", "server_error", "discovery_failed"]);

/**
 * A `(request: Request) => Promise<Response>` that answers who the bearer of the request's token is:
 *
 * - `200` `{ subject, type, scopes, claims }` (`Cache-Control: no-store`);
 * - `401` with `WWW-Authenticate: Bearer error="invalid_token", error_description="…"` for a bad token, or a bare
 *   `Bearer` challenge when the request has no token (RFC 6750 §3.1);
 * - `403` with `error="insufficient_scope"` when `scopes` are required and missing;
 * - `503` (`Retry-After: 5`) when the issuer cannot be reached, `500` for a server misconfiguration;
 * - `405` for methods other than GET and HEAD.
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
 */
export function identityHandler(
  verifier: Pick<Verifier, "verifyRequest">,
  options: IdentityHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const { onError, realm, resourceMetadata, accepts, scopes } = options;
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json(405, { error: "invalid_request", error_description: "Use GET" }, { allow: "GET, HEAD" });
    }
    try {
      const { subject, type, scopes: granted, claims } = await verifier.verifyRequest(request, { accepts, scopes });
      return json(200, { subject, type, scopes: granted, claims }, { vary: "authorization" });
    } catch (error) {
      const failure = error as CliAuthError;
      const challenge = bearerChallenge(failure, { realm, resourceMetadata });
      if (challenge !== undefined) {
        // No credentials: no error code in the body either, as in the challenge (RFC 6750 §3.1).
        const body = failure.error === undefined
          ? { error_description: failure.errorDescription }
          : { error: failure.error, error_description: failure.errorDescription };
        return json(failure.code === "insufficient_scope" ? 403 : 401, body, { "www-authenticate": challenge });
      }
      onError?.(failure);
      if (UNAVAILABLE.has(failure.code)) {
        return json(503, {
          error: "temporarily_unavailable",
          error_description: "The access token could not be checked right now; try again shortly",
        }, { "retry-after": "5" });
      }
      return json(500, { error: "server_error", error_description: "The access token could not be checked" });
    }
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}
