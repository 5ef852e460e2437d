/**
 * The verifier: one object per API that checks the access tokens its requests carry, whatever kind they are.
 *
 * @module
 */

import { CliAuthError, isCliAuthError, sanitizedCause } from "../src/common/errors.ts";
import { type AuthorizationServer, parseUrl, resolveAuthorizationServer } from "../src/common/discovery.ts";
import type { HttpOptions } from "../src/common/http.ts";
import { type PresentedCredentials, readCredentials } from "./_authorization_header.ts";
import { setChallengeContext } from "./_challenge_context.ts";
import { checkStepUpOptions, checkUserAuthentication } from "./_step_up.ts";
import { insufficientScope, invalidToken } from "./_refusals.ts";
import { canShareInFlight } from "./_in_flight.ts";
import { createIntrospector, type IntrospectionOptions, type Introspector } from "./introspection.ts";
import { createIssuerKeySet, type JwksCacheOptions } from "./issuer_key_set.ts";
import { JWS_ALGORITHMS, type JwsAlgorithm } from "./jws_algorithms.ts";
import { looksLikeJwt, verifyJwtAccessToken } from "./_jwt_access_token.ts";
import {
  checkPrefix,
  type PersonalAccessTokenVerification,
  verifyPersonalAccessToken,
} from "./personal_access_token.ts";
import { createPossessionCheck, type DpopOptions } from "./proof_of_possession.ts";
import { TOKEN_TYPES, type TokenType, type VerifiedToken } from "./verified_token.ts";

/**
 * Default timeout of each request a verifier makes (discovery, key set, introspection): 5 s, unless
 * `http.timeoutMs` says otherwise. Short, because a request waits for it.
 *
 * @example Usage
 * ```ts
 * import { createVerifier, DEFAULT_VERIFIER_TIMEOUT_MS } from "@x/cli-auth/server";
 * const verifier = createVerifier({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   http: { timeoutMs: 2 * DEFAULT_VERIFIER_TIMEOUT_MS },
 * });
 * ```
 */
export const DEFAULT_VERIFIER_TIMEOUT_MS = 5_000;

/**
 * Default {@link VerifierOptions.clockToleranceSeconds}: 30 s, as oauth4webapi's default clock tolerance.
 *
 * @example Usage
 * ```ts
 * import { createVerifier, DEFAULT_CLOCK_TOLERANCE_SECONDS } from "@x/cli-auth/server";
 * const strict = createVerifier({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   clockToleranceSeconds: DEFAULT_CLOCK_TOLERANCE_SECONDS / 6,
 * });
 * ```
 */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

/**
 * How a verifier checks tokens.
 *
 * @example JWT access tokens, opaque tokens and personal access tokens
 * ```ts
 * import type { VerifierOptions } from "@x/cli-auth/server";
 * declare const db: { tokenByHash(hash: string): Promise<{ user: string; scopes: string[] } | null> };
 * const options: VerifierOptions = {
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   introspection: { clientId: "my-api", clientSecret: "…" },
 *   personalAccessTokens: {
 *     prefix: "mycli_pat",
 *     lookup: async (hash) => {
 *       const row = await db.tokenByHash(hash);
 *       return row && { subject: row.user, scopes: row.scopes };
 *     },
 *   },
 * };
 * ```
 */
export interface VerifierOptions {
  /** The authorization server's issuer identifier; its metadata is discovered on first use. */
  issuer: string;
  /** This API's identifier: the value the tokens' `aud` must contain (the `resource` the CLI asks for). */
  audience: string;
  /**
   * Which kinds of token are accepted (default: every kind configured: `"jwt"` always, `"opaque"` with
   * `introspection`, `"pat"` with `personalAccessTokens`).
   */
  accepts?: readonly TokenType[];
  /** The API's client credentials, to check opaque tokens by introspection (RFC 7662). */
  introspection?: IntrospectionOptions;
  /** How to recognise and look up personal access tokens. */
  personalAccessTokens?: PersonalAccessTokenVerification;
  /** Allowed clock difference for `exp` / `nbf`, in seconds (default 30). */
  clockToleranceSeconds?: number;
  /**
   * Require the `typ` header `at+jwt` of RFC 9068 (default `true`). Turn it off only for an issuer that signs its
   * access tokens as plain JWTs; `iss`, `aud`, `exp` and `sub` are checked either way.
   */
  requireAtJwtTyp?: boolean;
  /** Accepted JWS algorithms (default: RS*, PS*, ES*, EdDSA / Ed25519; never `none` or HS*). */
  algorithms?: readonly JwsAlgorithm[];
  /** How the issuer's key set is cached. */
  jwks?: JwksCacheOptions;
  /**
   * How DPoP-bound tokens (RFC 9449) are checked: proof algorithms, proof window, replay cache, server nonces, or
   * `required: true` to refuse Bearer tokens. On by default; `false` refuses the `DPoP` scheme.
   */
  dpop?: DpopOptions | false;
  /**
   * Transport for discovery, the key set and introspection: `timeoutMs` (default 5 s here), a custom `fetch`,
   * `allowInsecureRequests` (local development and tests only).
   */
  http?: HttpOptions;
  /**
   * The clock, epoch ms (default `Date.now`): for tests. It judges tokens, proofs and replays; the issuer's key set
   * times its cooldown and maximum age with `Date.now()` (jose's `createRemoteJWKSet`), whatever this says.
   */
  now?: () => number;
}

/**
 * Per-call narrowing of what is accepted.
 *
 * @example A route for CI tokens that may deploy
 * ```ts
 * import type { VerifyOptions } from "@x/cli-auth/server";
 * const deployRoute: VerifyOptions = { accepts: ["pat"], scopes: ["deploy"] };
 * ```
 * @example A route that needs a second factor used within the last five minutes (step-up, RFC 9470)
 * ```ts
 * import type { VerifyOptions } from "@x/cli-auth/server";
 * const deleteRoute: VerifyOptions = { scopes: ["projects:write"], acrValues: ["urn:example:mfa"], maxAge: 300 };
 * ```
 */
export interface VerifyOptions {
  /** Token kinds this route accepts: a subset of the verifier's (default: all of them). */
  accepts?: readonly TokenType[];
  /** Scopes the token must all have; otherwise `insufficient_scope`. */
  scopes?: readonly string[];
  /**
   * Step-up (RFC 9470): the authentication context classes this route accepts. A token whose `acr` claim is none of
   * them (or that has none) is refused with `insufficient_user_authentication`, and the challenge carries
   * `acr_values="…"` so the client can sign in again asking for one. Values may not contain spaces, quotes or
   * backslashes.
   */
  acrValues?: readonly string[];
  /**
   * Step-up (RFC 9470): how many seconds ago the user may have authenticated at most. A token whose `auth_time` is
   * older (beyond the clock tolerance) or missing is refused with `insufficient_user_authentication`, and the
   * challenge carries `max_age=N`. `0` asks for a sign-in just now (within the clock tolerance).
   */
  maxAge?: number;
}

/**
 * Checks the tokens an API receives, and how they are presented.
 *
 * @example Usage
 * ```ts
 * import { createVerifier, type Verifier } from "@x/cli-auth/server";
 * const verifier: Verifier = createVerifier({ issuer: "https://auth.example.com", audience: "https://api.example.com" });
 * const { subject, scopes } = await verifier.verifyToken("eyJhbGciOiJFUzI1NiIs…");
 * ```
 */
export interface Verifier {
  /**
   * Verifies the access token in a request's `Authorization: Bearer …` header, or `Authorization: DPoP …` with its
   * `DPoP` proof header.
   *
   * @throws {CliAuthError} `invalid_token` (status 401) for every problem with the request, its token or its DPoP
   *   proof (OAuth `error` `invalid_token`, `invalid_dpop_proof` for the proof itself, `use_dpop_nonce` when a server
   *   nonce is due: {@link unauthorizedResponse} answers each properly),
   *   `insufficient_user_authentication` (401) for a valid token whose sign-in is weaker or older than the call's
   *   `acrValues` / `maxAge` ask (checked before the scopes),
   *   `insufficient_scope` (403) for a valid token without the required scopes; `network_error`, `timeout`,
   *   `server_error`, `discovery_failed`, `invalid_client`, `invalid_response` when the issuer cannot be asked
   *   (answer 503, not 401); `invalid_options` for `accepts` outside the verifier's. Never anything else.
   */
  verifyRequest(request: Request, options?: VerifyOptions): Promise<VerifiedToken>;
  /**
   * Verifies a token that came some other way (a WebSocket message, a queue). Tokens bound to a key are refused,
   * since no proof can come with them.
   *
   * @throws {CliAuthError} as {@link Verifier.verifyRequest}
   */
  verifyToken(token: string, options?: VerifyOptions): Promise<VerifiedToken>;
}

/**
 * Creates a verifier. Nothing is fetched until the first token arrives; then the issuer's metadata and key set
 * are fetched once and kept.
 *
 * What is checked: a JWT access token's `typ` (`at+jwt`), algorithm (asymmetric, allowed), `iss`, `aud`, `exp`,
 * `nbf` (with the clock tolerance), `sub` and signature with the issuer's published key; an opaque token by
 * introspection (`active`, `aud`, `iss`, `exp`, `sub`); a personal access token by checksum, then lookup of its
 * hash. A token is a PAT when it starts with `<prefix>_`, a JWT when it has the form of a compact JWS, else opaque.
 *
 * Then how it was presented: a token bound to a key (`cnf`, in the JWT or the introspection answer) is refused as a
 * bearer token; with the `DPoP` scheme, the `DPoP` proof header must be a `dpop+jwt` signed with an accepted
 * asymmetric algorithm by the public key in its `jwk` header, whose thumbprint is the token's `cnf.jkt`, for this
 * method (`htm`) and URL (`htu`, without query), made within `proofWindowSeconds` + `clockToleranceSeconds` of now
 * (`iat`), for this token (`ath`), with a server nonce when `dpop.nonce` is set, and never used before (`jti`).
 *
 * @param options issuer, audience and what to accept
 * @returns the verifier
 * @throws {CliAuthError} `invalid_options` for a missing or malformed option
 *
 * @example Protect a route on any Fetch-API server
 * ```ts
 * import { bearerChallenge, createVerifier, isCliAuthError } from "@x/cli-auth/server";
 * const verifier = createVerifier({ issuer: "https://auth.example.com", audience: "https://api.example.com" });
 *
 * export async function handler(request: Request): Promise<Response> {
 *   try {
 *     const { subject } = await verifier.verifyRequest(request, { scopes: ["api:read"] });
 *     return Response.json({ hello: subject });
 *   } catch (error) {
 *     if (!isCliAuthError(error)) throw error;
 *     const challenge = bearerChallenge(error);
 *     if (!challenge) return new Response("Try again later", { status: 503 });
 *     return new Response(null, { status: error.status, headers: { "www-authenticate": challenge } });
 *   }
 * }
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (typeof options !== "object" || options === null) {
    throw new CliAuthError("invalid_options", "createVerifier() needs an options object");
  }
  parseUrl(options.issuer, "issuer");
  const issuer = options.issuer;
  if (typeof options.audience !== "string" || options.audience === "") {
    throw new CliAuthError("invalid_options", "The `audience` option must name this API", {
      hint: "Use the resource indicator the CLI asks tokens for, e.g. \"https://api.example.com\"",
    });
  }
  const audience = options.audience;
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new CliAuthError("invalid_options", "The `clockToleranceSeconds` option must be 0 or more");
  }
  const algorithms = options.algorithms ?? JWS_ALGORITHMS;
  if (algorithms.length === 0 || algorithms.some((alg) => !JWS_ALGORITHMS.includes(alg))) {
    throw new CliAuthError("invalid_options", `The \`algorithms\` option may name only ${JWS_ALGORITHMS.join(", ")}`);
  }
  const pats = options.personalAccessTokens;
  if (pats !== undefined) {
    checkPrefix(pats.prefix);
    if (typeof pats.lookup !== "function") {
      throw new CliAuthError("invalid_options", "The `personalAccessTokens.lookup` option must be a function");
    }
  }
  const configured: TokenType[] = ["jwt"];
  if (options.introspection) configured.push("opaque");
  if (pats) configured.push("pat");
  const accepted = checkAccepts(options.accepts ?? configured, configured, "accepts");

  const now = options.now ?? Date.now;
  const http: HttpOptions = { ...options.http, timeoutMs: options.http?.timeoutMs ?? DEFAULT_VERIFIER_TIMEOUT_MS };
  const expectations = { issuer, audience, clockToleranceSeconds: tolerance, now };
  const possession = createPossessionCheck(options.dpop, { clockToleranceSeconds: tolerance, now });

  const share = canShareInFlight();
  let metadata: AuthorizationServer | undefined;
  let discovering: Promise<AuthorizationServer> | undefined;
  /** The issuer's metadata, discovered once; a failed discovery is tried again by the next request. */
  const discover = (): Promise<AuthorizationServer> => {
    if (metadata) return Promise.resolve(metadata);
    if (discovering && share) return discovering;
    const current: Promise<AuthorizationServer> = resolveAuthorizationServer({ issuer, http })
      .then((as) => (metadata = as))
      .finally(() => {
        if (discovering === current) discovering = undefined;
      });
    discovering = current;
    return current;
  };
  const issuerKey = createIssuerKeySet(async () => {
    const as = await discover();
    if (!as.jwks_uri) {
      throw new CliAuthError("discovery_failed", "The authorization server publishes no jwks_uri", {
        hint: "JWT access tokens need the issuer's key set; accept opaque tokens with introspection instead",
      });
    }
    return parseUrl(as.jwks_uri, "jwks_uri");
  }, { ...options.jwks, http });

  const introspector: Introspector | undefined = options.introspection
    ? createIntrospector({ ...options.introspection, ...expectations, http, server: discover })
    : undefined;

  function classify(token: string): TokenType {
    if (pats && token.startsWith(`${pats.prefix}_`)) return "pat";
    return looksLikeJwt(token) ? "jwt" : "opaque";
  }

  async function verify(token: string, accepts: readonly TokenType[], time: number): Promise<VerifiedToken> {
    const type = classify(token);
    if (!accepts.includes(type)) throw invalidToken(`This API does not accept ${DESCRIPTIONS[type]} here`);
    switch (type) {
      case "pat":
        return await verifyPersonalAccessToken(token, pats!, time);
      case "jwt":
        return await verifyJwtAccessToken(token, {
          ...expectations,
          now: () => time,
          algorithms,
          requireAtJwtTyp: options.requireAtJwtTyp ?? true,
          key: issuerKey,
        });
      case "opaque":
        return await introspector!.introspect(token);
    }
  }

  async function run(
    credentials: () => PresentedCredentials,
    request: Request | undefined,
    verifyOptions: VerifyOptions = {},
  ): Promise<VerifiedToken> {
    let presented: PresentedCredentials | undefined;
    try {
      const accepts = verifyOptions.accepts === undefined
        ? accepted
        : checkAccepts(verifyOptions.accepts, accepted, "accepts");
      const stepUp = checkStepUpOptions(verifyOptions);
      presented = credentials();
      // One clock reading for the whole verification: the token's times, the proof's age and its replay record are
      // all judged at the same instant.
      const time = now();
      const verified = await verify(presented.token, accepts, time);
      const token = await possession.check({ credentials: request ? presented : undefined, request, token: verified, now: time });
      // Authentication before authorisation: a sign-in too weak or too old is a 401 (RFC 9470), a missing scope a 403.
      if (stepUp) checkUserAuthentication(token.claims, stepUp, time, tolerance);
      const required = verifyOptions.scopes ?? [];
      if (required.some((scope) => !token.scopes.includes(scope))) throw insufficientScope(required);
      return token;
    } catch (error) {
      const failure = isCliAuthError(error)
        ? error
        : new CliAuthError("server_error", "The access token could not be verified", { cause: sanitizedCause(error) });
      // What the challenges need: the scheme the request used, and the schemes this API takes (RFC 9449 §7.2).
      setChallengeContext(failure, {
        used: request ? presented?.scheme : undefined,
        bearer: possession.bearer,
        dpopAlgorithms: possession.dpopAlgorithms,
      });
      throw failure;
    }
  }

  return {
    verifyRequest(request, verifyOptions) {
      return run(() => readCredentials(request), request, verifyOptions);
    },
    verifyToken(token, verifyOptions) {
      return run(() => ({ scheme: "Bearer", token: String(token) }), undefined, verifyOptions);
    },
  };
}

/**
 * Verifies the access token of a request with a verifier: the same as `verifier.verifyRequest(request, options)`.
 *
 * @param verifier what {@link createVerifier} returned
 * @param request the incoming request
 * @param options per-route `accepts` and required `scopes`
 * @returns the verified token
 * @throws {CliAuthError} as {@link Verifier.verifyRequest}
 *
 * @example Usage
 * ```ts
 * import { createVerifier, verifyRequest } from "@x/cli-auth/server";
 * const verifier = createVerifier({ issuer: "https://auth.example.com", audience: "https://api.example.com" });
 * export const GET = async (request: Request) => {
 *   const { subject } = await verifyRequest(verifier, request, { scopes: ["api:read"] });
 *   return Response.json({ subject });
 * };
 * ```
 */
export function verifyRequest(verifier: Verifier, request: Request, options?: VerifyOptions): Promise<VerifiedToken> {
  return verifier.verifyRequest(request, options);
}

const DESCRIPTIONS: Record<TokenType, string> = {
  jwt: "JWT access tokens",
  opaque: "opaque access tokens",
  pat: "personal access tokens",
};

function checkAccepts(
  accepts: readonly TokenType[],
  available: readonly TokenType[],
  name: string,
): readonly TokenType[] {
  if (!Array.isArray(accepts) || accepts.length === 0) {
    throw new CliAuthError("invalid_options", `The \`${name}\` option must name at least one token type`);
  }
  for (const type of accepts) {
    if (!TOKEN_TYPES.includes(type)) {
      throw new CliAuthError("invalid_options", `The \`${name}\` option names an unknown token type "${type}"`);
    }
    if (!available.includes(type)) {
      throw new CliAuthError(
        "invalid_options",
        `The \`${name}\` option names "${type}", which this verifier is not set up for`,
        {
          hint: type === "opaque"
            ? "Give `introspection` credentials to accept opaque tokens"
            : type === "pat"
            ? "Give `personalAccessTokens` to accept personal access tokens"
            : undefined,
        },
      );
    }
  }
  return [...new Set(accepts)];
}
