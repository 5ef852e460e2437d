/**
 * The challenges a protected resource answers with (RFC 6750 §3, RFC 9449 §7): how a verifier's refusal (a
 * {@link CliAuthError}) becomes a `WWW-Authenticate` header with a `Bearer` and/or a `DPoP` challenge. The refusals
 * themselves are made in _refusals.ts.
 *
 * @module
 */

import type { CliAuthError } from "../src/common/errors.ts";
import type { AuthorizationScheme } from "./_authorization_header.ts";
import { challengeContextOf } from "./_challenge_context.ts";
import { nonceOf, stepUpOf } from "./_refusals.ts";

/**
 * The nonce to send in a `DPoP-Nonce` response header with an error, if it is a `use_dpop_nonce` error from a
 * verifier that demands server nonces ({@link unauthorizedResponse} sends it for you).
 *
 * @param error what `verifyRequest` threw
 * @returns the nonce, or `undefined`
 *
 * @example A response built by hand
 * ```ts
 * import { createDpopNonceSource, createVerifier, dpopNonceOf, isCliAuthError, wwwAuthenticate } from "@x/cli-auth/server";
 * const verifier = createVerifier({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   dpop: { nonce: createDpopNonceSource() },
 * });
 * async function handle(request: Request): Promise<Response> {
 *   try {
 *     return Response.json(await verifier.verifyRequest(request));
 *   } catch (error) {
 *     if (!isCliAuthError(error)) throw error;
 *     const headers = new Headers({ "www-authenticate": wwwAuthenticate(error) ?? "Bearer" });
 *     const nonce = dpopNonceOf(error);
 *     if (nonce) headers.set("dpop-nonce", nonce);
 *     return new Response(null, { status: error.status ?? 503, headers });
 *   }
 * }
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 */
export function dpopNonceOf(error: CliAuthError): string | undefined {
  return nonceOf(error);
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
 * The `Bearer` challenge alone for a verification failure: `Bearer error="invalid_token", error_description="…"`
 * (401), `Bearer error="insufficient_scope", …, scope="…"` (403), the step-up challenge
 * `Bearer error="insufficient_user_authentication", …, acr_values="…", max_age=N` (401, RFC 9470 §3: with what the
 * call's `acrValues` and `maxAge` asked for), or a bare `Bearer` challenge when the request had no credentials
 * (RFC 6750 §3.1). For an API that also takes DPoP, use {@link wwwAuthenticate}, which adds the
 * `DPoP` challenge and puts the error on the scheme the request used. Descriptions are reduced to the characters
 * RFC 6750 allows in them, so the header is always well-formed; `realm` and `resource_metadata` are quoted with `\`
 * escapes.
 *
 * @param error what `verifyRequest` threw
 * @param options `realm` and `resource_metadata` to add
 * @returns the header value, or `undefined` for an error that is not about the token (answer 500/503 instead)
 *
 * @example Usage
 * ```ts
 * import { bearerChallenge, createVerifier, isCliAuthError } from "@x/cli-auth/server";
 * const verifier = createVerifier({ issuer: "https://auth.example.com", audience: "https://api.example.com", dpop: false });
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
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 */
export function bearerChallenge(error: CliAuthError, options: ChallengeOptions = {}): string | undefined {
  if (!isTokenError(error)) return undefined;
  const used = challengeContextOf(error)?.used;
  return challenge("Bearer", error, used === undefined || used === "Bearer", options);
}

/**
 * The whole `WWW-Authenticate` value for a verification failure, with one challenge per scheme the API takes
 * (RFC 9449 §7.2): `Bearer` unless the verifier requires DPoP, and `DPoP` with `algs="…"` unless the verifier was made
 * with `dpop: false`. The error goes on the challenge of the scheme the request used; a request without credentials
 * gets bare challenges (`Bearer, DPoP algs="ES256 …"`, RFC 6750 §3.1). A step-up refusal's `acr_values` and
 * `max_age` (RFC 9470 §3) go with the error. `realm` and `resource_metadata` (RFC 9728 §5.1) go on every
 * challenge. For an error that did not come from a verifier, this is {@link bearerChallenge}.
 *
 * @param error what `verifyRequest` threw
 * @param options `realm` and `resource_metadata` to add
 * @returns the header value, or `undefined` for an error that is not about the token (answer 500/503 instead)
 *
 * @example Usage
 * ```ts
 * import { createVerifier, isCliAuthError, wwwAuthenticate } from "@x/cli-auth/server";
 * const verifier = createVerifier({ issuer: "https://auth.example.com", audience: "https://api.example.com" });
 * const error = await verifier.verifyRequest(new Request("https://api.example.com/me")).catch((e) => e);
 * if (isCliAuthError(error)) console.assert(wwwAuthenticate(error)?.startsWith("Bearer, DPoP algs=") === true);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.2
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 */
export function wwwAuthenticate(error: CliAuthError, options: ChallengeOptions = {}): string | undefined {
  if (!isTokenError(error)) return undefined;
  const context = challengeContextOf(error) ?? { bearer: true };
  const offered: AuthorizationScheme[] = [];
  if (context.bearer) offered.push("Bearer");
  if (context.dpopAlgorithms) offered.push("DPoP");
  if (offered.length === 0) offered.push("Bearer");
  const carrier = context.used !== undefined && offered.includes(context.used) ? context.used : offered[0];
  return offered
    .map((scheme) => challenge(scheme, error, scheme === carrier, options, context.dpopAlgorithms))
    .join(", ");
}

function isTokenError(error: CliAuthError): boolean {
  return error.code === "invalid_token" || error.code === "insufficient_scope" ||
    error.code === "insufficient_user_authentication";
}

/**
 * One challenge: `realm`, then the error (when this scheme carries it, with `scope`, or RFC 9470's `acr_values` and
 * `max_age`), `algs` for DPoP, `resource_metadata`.
 */
function challenge(
  scheme: AuthorizationScheme,
  error: CliAuthError,
  carriesError: boolean,
  options: ChallengeOptions,
  algorithms?: readonly string[],
): string {
  const parameters: string[] = [];
  if (options.realm !== undefined) parameters.push(`realm=${quote(options.realm)}`);
  if (carriesError && error.error !== undefined) {
    parameters.push(`error=${quote(error.error)}`);
    if (error.errorDescription) parameters.push(`error_description=${quote(rfc6750Text(error.errorDescription))}`);
    if (error.code === "insufficient_scope" && error.scopes?.length) {
      parameters.push(`scope=${quote(rfc6750Text(error.scopes.join(" ")))}`);
    }
    const stepUp = stepUpOf(error);
    if (stepUp?.acrValues?.length) parameters.push(`acr_values=${quote(stepUp.acrValues.join(" "))}`);
    if (stepUp?.maxAge !== undefined) parameters.push(`max_age=${stepUp.maxAge}`);
  }
  if (scheme === "DPoP" && algorithms?.length) parameters.push(`algs=${quote(algorithms.join(" "))}`);
  if (options.resourceMetadata !== undefined) parameters.push(`resource_metadata=${quote(options.resourceMetadata)}`);
  return parameters.length === 0 ? scheme : `${scheme} ${parameters.join(", ")}`;
}

/** RFC 6750 §3: `error_description` and `scope` use %x20-21 / %x23-5B / %x5D-7E only: no `"`, no `\`, no controls. */
function rfc6750Text(text: string): string {
  return text.replace(/"/g, "'").replace(/\\/g, "/").replace(/[^\x20-\x7e]/g, "?");
}

/** An RFC 9110 §5.6.4 quoted-string: `"` and `\` escaped, characters a header cannot hold replaced by `?`. */
function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, "?").replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
