/**
 * `@x/cli-auth/server`: for the API a CLI talks to, on any Fetch-API server (Deno, Bun, Node, Workers, Hono, Next).
 * Web APIs only.
 *
 * - {@link createVerifier}: checks JWT access tokens (RFC 9068) against the issuer's keys, opaque tokens by
 *   introspection (RFC 7662), and personal access tokens by the hash you stored; DPoP-bound tokens (RFC 9449) with
 *   their proofs, replays refused, server nonces when you want them; per call, required scopes and step-up
 *   (RFC 9470: `acrValues`, `maxAge`, answered with an `insufficient_user_authentication` challenge).
 * - {@link identityHandler}: a `GET /me` route answering `{ subject, type, scopes, claims }`, for the CLI's
 *   `identityEndpoint`; {@link unauthorizedResponse} answers a failed verification the same way on any route.
 * - {@link resourceMetadataHandler}: the RFC 9728 `/.well-known/oauth-protected-resource` document, so that a CLI
 *   that knows only the API's URL finds where to sign in ({@link resourceMetadataUrl} for the 401 challenges).
 * - {@link createPersonalAccessToken}: `<prefix>_<random><checksum>` tokens for CI, stored only as a SHA-256 hash.
 * - {@link redisReplayCache} and {@link createDpopNonceSource} with a shared `secret`: DPoP replays and nonces shared
 *   by every instance of an API, through Redis or Valkey (any client).
 *
 * @example Usage
 * ```ts
 * import { createVerifier, identityHandler } from "@x/cli-auth/server";
 * const verifier = createVerifier({ issuer: "https://auth.example.com", audience: "https://api.example.com" });
 * const me = identityHandler(verifier);
 * const response = await me(new Request("https://api.example.com/me", { headers: { authorization: "Bearer x" } }));
 * console.assert(response.status === 401);
 * ```
 *
 * @module
 */
export { CliAuthError, isCliAuthError } from "../src/common/errors.ts";
export type { CliAuthErrorCode } from "../src/common/errors.ts";
export type { FetchLike, HttpOptions } from "../src/common/http.ts";
export { createVerifier, DEFAULT_CLOCK_TOLERANCE_SECONDS, DEFAULT_VERIFIER_TIMEOUT_MS, verifyRequest } from "./verifier.ts";
export type { Verifier, VerifierOptions, VerifyOptions } from "./verifier.ts";
export type { TokenType, VerifiedToken } from "./verified_token.ts";
export { identityHandler } from "./identity_handler.ts";
export { unauthorizedResponse } from "./unauthorized_response.ts";
export { resourceMetadataHandler, resourceMetadataUrl } from "./resource_metadata.ts";
export type { ResourceMetadataOptions } from "./resource_metadata.ts";
export type { IdentityHandlerOptions } from "./identity_handler.ts";
export { bearerChallenge, dpopNonceOf, wwwAuthenticate } from "./challenge.ts";
export type { ChallengeOptions } from "./challenge.ts";
export { DEFAULT_DPOP_PROOF_WINDOW_SECONDS } from "./proof_of_possession.ts";
export type { DpopOptions } from "./proof_of_possession.ts";
export { createDpopReplayCache, DEFAULT_DPOP_REPLAY_ENTRIES } from "./dpop_replay_cache.ts";
export type { DpopReplayCache, DpopReplayCacheOptions } from "./dpop_replay_cache.ts";
export { DEFAULT_REDIS_REPLAY_PREFIX, DEFAULT_REDIS_REPLAY_TIMEOUT_MS, redisReplayCache } from "./redis_replay_cache.ts";
export type { RedisReplayCacheOptions, RedisSend } from "./redis_replay_cache.ts";
export { createDpopNonceSource, DEFAULT_DPOP_NONCE_LIFETIME_MS } from "./dpop_nonce.ts";
export type { DpopNonceOptions, DpopNonceSource } from "./dpop_nonce.ts";
export { DEFAULT_INTROSPECTION_CACHE_ENTRIES, DEFAULT_INTROSPECTION_CACHE_TTL_MS } from "./introspection.ts";
export type { IntrospectionOptions } from "./introspection.ts";
export { DEFAULT_JWKS_COOLDOWN_MS, DEFAULT_JWKS_MAX_AGE_MS } from "./issuer_key_set.ts";
export type { JwksCacheOptions } from "./issuer_key_set.ts";
export { JWS_ALGORITHMS } from "./jws_algorithms.ts";
export type { JwsAlgorithm } from "./jws_algorithms.ts";
export {
  createPersonalAccessToken,
  hashPersonalAccessToken,
  isPersonalAccessTokenWellFormed,
  personalAccessTokenPattern,
} from "./personal_access_token.ts";
export type {
  PersonalAccessToken,
  PersonalAccessTokenOptions,
  PersonalAccessTokenRecord,
  PersonalAccessTokenVerification,
} from "./personal_access_token.ts";
