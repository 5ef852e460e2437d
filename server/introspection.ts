/**
 * Opaque access tokens checked by the authorization server (RFC 7662), the API authenticating as its own client,
 * with answers kept briefly under the SHA-256 of the token so that a burst of requests costs one round trip.
 *
 * @module
 */

import { base64url } from "jose";
import * as oauth from "oauth4webapi";
import { CliAuthError } from "../src/common/errors.ts";
import { toCliAuthError } from "../src/common/error_mapping.ts";
import type { AuthorizationServer } from "../src/common/discovery.ts";
import { type HttpOptions, requestOptions } from "../src/common/http.ts";
import { invalidToken } from "./_refusals.ts";
import { canShareInFlight } from "./_in_flight.ts";
import { type ClaimExpectations, checkAccessTokenClaims } from "./_token_claims.ts";
import { clientIdOf, scopesOf, type VerifiedToken } from "./verified_token.ts";

/**
 * The API's own client credentials at the authorization server, for token introspection.
 *
 * @example Usage
 * ```ts
 * import type { IntrospectionOptions } from "@x/cli-auth/server";
 * const introspection: IntrospectionOptions = { clientId: "my-api", clientSecret: "…", cacheTtlMs: 10_000 };
 * ```
 */
export interface IntrospectionOptions {
  /** The API's client ID. */
  clientId: string;
  /** The API's client secret (sent with HTTP Basic, else in the body when the server only takes that). */
  clientSecret: string;
  /**
   * How long an active token's answer is reused, in ms (default 30 s, never past the token's `exp`; 0 disables).
   * A token revoked at the server is still accepted for at most this long. Refusals are not cached.
   */
  cacheTtlMs?: number;
  /** How many answers are kept at most (default 10 000); the oldest go first. */
  maxCacheEntries?: number;
}

/**
 * Default {@link IntrospectionOptions.cacheTtlMs}: 30 s.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_INTROSPECTION_CACHE_TTL_MS } from "@x/cli-auth/server";
 * const introspection = { clientId: "my-api", clientSecret: "…", cacheTtlMs: DEFAULT_INTROSPECTION_CACHE_TTL_MS / 3 };
 * ```
 */
export const DEFAULT_INTROSPECTION_CACHE_TTL_MS = 30_000;
/**
 * Default {@link IntrospectionOptions.maxCacheEntries}: 10 000.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_INTROSPECTION_CACHE_ENTRIES } from "@x/cli-auth/server";
 * const introspection = { clientId: "my-api", clientSecret: "…", maxCacheEntries: DEFAULT_INTROSPECTION_CACHE_ENTRIES * 10 };
 * ```
 */
export const DEFAULT_INTROSPECTION_CACHE_ENTRIES = 10_000;

/** Checks opaque tokens. */
export interface Introspector {
  /**
   * Verifies an opaque token.
   *
   * @throws {CliAuthError} `invalid_token`; `network_error`, `timeout`, `server_error`, `invalid_client`,
   *   `invalid_response` when the authorization server cannot answer
   */
  introspect(token: string): Promise<VerifiedToken>;
}

/**
 * Creates an {@link Introspector}.
 *
 * @param options the API's credentials, cache settings, the expected claims, transport and the server metadata
 * @returns the introspector
 * @throws {CliAuthError} `invalid_options` for missing credentials or a bad cache setting
 *
 * @example Usage
 * ```ts ignore
 * import { createIntrospector } from "./introspection.ts";
 * const introspector = createIntrospector({
 *   clientId: "my-api", clientSecret: "…", issuer, audience: "https://api.example.com",
 *   clockToleranceSeconds: 30, now: Date.now, http: {}, server: () => resolveAuthorizationServer({ issuer }),
 * });
 * const verified = await introspector.introspect(token);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 */
export function createIntrospector(
  options: IntrospectionOptions & ClaimExpectations & {
    http: HttpOptions;
    server: () => Promise<AuthorizationServer>;
  },
): Introspector {
  const { clientId, clientSecret } = options;
  if (typeof clientId !== "string" || clientId === "" || typeof clientSecret !== "string" || clientSecret === "") {
    throw new CliAuthError("invalid_options", "Token introspection needs the API's `clientId` and `clientSecret`");
  }
  const ttl = options.cacheTtlMs ?? DEFAULT_INTROSPECTION_CACHE_TTL_MS;
  const maxEntries = options.maxCacheEntries ?? DEFAULT_INTROSPECTION_CACHE_ENTRIES;
  if (!Number.isFinite(ttl) || ttl < 0) {
    throw new CliAuthError("invalid_options", "The `introspection.cacheTtlMs` option must be 0 ms or more");
  }
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new CliAuthError("invalid_options", "The `introspection.maxCacheEntries` option must be a positive integer");
  }
  const client: oauth.Client = { client_id: clientId };
  /** Answers by SHA-256 of the token: the token itself is never kept. */
  const cache = new Map<string, { token: VerifiedToken; until: number }>();
  /**
   * Requests in flight by SHA-256 of the token: concurrent checks of one token share one request (except on
   * Cloudflare Workers, see _in_flight.ts).
   */
  const pending = new Map<string, Promise<VerifiedToken>>();
  const share = canShareInFlight();

  async function ask(token: string): Promise<VerifiedToken> {
    const as = await options.server();
    if (!as.introspection_endpoint) {
      throw new CliAuthError("discovery_failed", "The authorization server publishes no introspection endpoint", {
        hint: "Opaque tokens need RFC 7662 introspection; accept only JWT access tokens, or enable introspection",
      });
    }
    const methods = as.introspection_endpoint_auth_methods_supported ?? as.token_endpoint_auth_methods_supported;
    const auth = !methods || methods.includes("client_secret_basic")
      ? oauth.ClientSecretBasic(clientSecret)
      : oauth.ClientSecretPost(clientSecret);
    let answer: oauth.IntrospectionResponse;
    try {
      const response = await oauth.introspectionRequest(as, client, auth, token, {
        ...requestOptions(options.http, "introspection"),
        additionalParameters: { token_type_hint: "access_token" },
      });
      answer = await oauth.processIntrospectionResponse(as, client, response);
    } catch (error) {
      throw toCliAuthError(error, "introspection");
    }
    return check(answer as unknown as Record<string, unknown>);
  }

  function check(answer: Record<string, unknown>): VerifiedToken {
    if (answer.active !== true) {
      throw invalidToken("The access token is not active (expired, revoked or unknown to the issuer)");
    }
    const tokenType = answer.token_type;
    if (tokenType !== undefined && !(typeof tokenType === "string" && /^(bearer|dpop)$/i.test(tokenType))) {
      throw invalidToken("The token is not an access token");
    }
    const { subject, expiresAt } = checkAccessTokenClaims(answer, options, { issuer: false, expiry: false });
    const { active: _active, ...claims } = answer;
    const result: VerifiedToken = { subject, type: "opaque", scopes: scopesOf(claims), claims, expiresAt };
    const id = clientIdOf(claims);
    if (id !== undefined) result.clientId = id;
    return result;
  }

  return {
    async introspect(token) {
      const key = base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
      const now = options.now();
      const hit = cache.get(key);
      if (hit) {
        if (hit.until > now) {
          // Still within its own validity? The claims check judges expiry with the same clock as a fresh answer.
          return check({ active: true, ...hit.token.claims });
        }
        cache.delete(key);
      }
      let inFlight = share ? pending.get(key) : undefined;
      if (!inFlight) {
        const current: Promise<VerifiedToken> = ask(token).finally(() => {
          if (pending.get(key) === current) pending.delete(key);
        });
        inFlight = current;
        if (share) pending.set(key, current);
        if (ttl > 0) {
          inFlight.then((verified) => {
            const until = Math.min(options.now() + ttl, verified.expiresAt ?? Infinity);
            cache.delete(key);
            while (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
            cache.set(key, { token: verified, until });
          }, () => {});
        }
      }
      return await inFlight;
    },
  };
}
