/**
 * The errors a protected resource answers with (RFC 6750 §3): how a verification failure becomes a
 * {@link CliAuthError} and how that error becomes a `WWW-Authenticate` header.
 *
 * @module
 */

import { CliAuthError } from "../src/errors.ts";

/** How a failure was caused: no credentials at all (or an unknown scheme), or credentials that failed. */
interface InvalidTokenOptions {
  /**
   * The request carried no usable credentials (no `Authorization` header, or another scheme). RFC 6750 §3.1 says the
   * challenge then carries no error code.
   */
  missing?: boolean;
  /** The underlying failure, without the token. */
  cause?: unknown;
}

/**
 * A `CliAuthError` with code `invalid_token` and HTTP status 401. `errorDescription` is the text the
 * `WWW-Authenticate` header carries; it never contains the token.
 *
 * @param description a sentence that says what is wrong with the token, and nothing secret
 * @param options whether credentials were missing altogether, and the cause
 * @returns the error to throw
 */
export function invalidToken(description: string, options: InvalidTokenOptions = {}): CliAuthError {
  return new CliAuthError("invalid_token", description, {
    error: options.missing ? undefined : "invalid_token",
    errorDescription: description,
    status: 401,
    cause: options.cause,
  });
}

/**
 * A `CliAuthError` with code `insufficient_scope` and HTTP status 403, naming the scopes the request needs.
 *
 * @param required the scopes the route requires
 * @returns the error to throw
 */
export function insufficientScope(required: readonly string[]): CliAuthError {
  const description = `The access token lacks a required scope (${required.join(" ")})`;
  return new CliAuthError("insufficient_scope", description, {
    error: "insufficient_scope",
    errorDescription: description,
    status: 403,
    scopes: [...required],
    hint: "Log in again asking for the scopes this API requires",
  });
}

/**
 * Extra parameters of a Bearer challenge.
 *
 * @example Usage
 * ```ts
 * import type { ChallengeOptions } from "@x/cli-auth/server";
 * const options: ChallengeOptions = {
 *   realm: "api",
 *   resourceMetadata: "https://api.example.com/.well-known/oauth-protected-resource",
 * };
 * ```
 */
export interface ChallengeOptions {
  /** The `realm` parameter (RFC 6750 §3). */
  realm?: string;
  /** The RFC 9728 §5.1 `resource_metadata` URL, so that clients can find the authorization server. */
  resourceMetadata?: string;
}

/**
 * The `WWW-Authenticate` value for a verification failure: `Bearer error="invalid_token", error_description="…"`
 * (401), `Bearer error="insufficient_scope", …, scope="…"` (403), or a bare `Bearer` challenge when the request had
 * no credentials (RFC 6750 §3.1). Descriptions are reduced to the characters RFC 6750 allows in them, so the header
 * is always well-formed; `realm` and `resource_metadata` are quoted with `\` escapes.
 *
 * @param error what `verifyRequest` threw
 * @param options `realm` and `resource_metadata` to add
 * @returns the header value, or `undefined` for an error that is not about the token (answer 500/503 instead)
 *
 * @example Usage
 * ```ts
 * import { bearerChallenge, createVerifier, isCliAuthError } from "@x/cli-auth/server";
 * const verifier = createVerifier({ issuer: "https://auth.example.com", audience: "https://api.example.com" });
 * async function handle(request: Request): Promise<Response> {
 *   try {
 *     const { subject } = await verifier.verifyRequest(request);
 *     return new Response(`hello ${subject}`);
 *   } catch (error) {
 *     if (!isCliAuthError(error)) throw error;
 *     const challenge = bearerChallenge(error, { realm: "api" });
 *     if (!challenge) return new Response(null, { status: 503 });
 *     return new Response(null, { status: error.status, headers: { "www-authenticate": challenge } });
 *   }
 * }
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 */
export function bearerChallenge(error: CliAuthError, options: ChallengeOptions = {}): string | undefined {
  if (error.code !== "invalid_token" && error.code !== "insufficient_scope") return undefined;
  const parameters: string[] = [];
  if (options.realm !== undefined) parameters.push(`realm=${quote(options.realm)}`);
  if (error.error !== undefined) {
    parameters.push(`error=${quote(error.error)}`);
    if (error.errorDescription) parameters.push(`error_description=${quote(rfc6750Text(error.errorDescription))}`);
    if (error.code === "insufficient_scope" && error.scopes?.length) {
      parameters.push(`scope=${quote(rfc6750Text(error.scopes.join(" ")))}`);
    }
  }
  if (options.resourceMetadata !== undefined) parameters.push(`resource_metadata=${quote(options.resourceMetadata)}`);
  return parameters.length === 0 ? "Bearer" : `Bearer ${parameters.join(", ")}`;
}

/** RFC 6750 §3: `error_description` and `scope` use %x20-21 / %x23-5B / %x5D-7E only: no `"`, no `\`, no controls. */
function rfc6750Text(text: string): string {
  return text.replace(/"/g, "'").replace(/\\/g, "/").replace(/[^\x20-\x7e]/g, "?");
}

/** An RFC 9110 §5.6.4 quoted-string: `"` and `\` escaped, characters a header cannot hold replaced by `?`. */
function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, "?").replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
