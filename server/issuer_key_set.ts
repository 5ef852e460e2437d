/**
 * The issuer's signing keys: jose's `createRemoteJWKSet` (one request for any number of verifications, a reload
 * for an unknown `kid` at most once per cooldown, concurrent callers sharing one request, a sequence number so that
 * an older answer never replaces a newer one, no sharing on Cloudflare Workers), created once the `jwks_uri` is
 * discovered, fetched through the verifier's transport options (https only, timeout, size limit, custom fetch) with
 * this package's error codes, and the key it picks checked once more (RSA keys under 2048 bits are refused).
 *
 * @module
 */

import { createRemoteJWKSet, customFetch, errors, type JWSHeaderParameters, type FlattenedJWSInput } from "jose";
import { CliAuthError, isTimeoutError, sanitizedCause } from "../src/common/errors.ts";
import { DEFAULT_MAX_RESPONSE_BYTES, type HttpOptions } from "../src/common/http.ts";
import { invalidToken } from "./_refusals.ts";
import { ed25519Alias, isShortRsaKey } from "./jws_algorithms.ts";

/**
 * How the key set is fetched and kept.
 *
 * @example Usage
 * ```ts
 * import type { JwksCacheOptions } from "@x/cli-auth/server";
 * const jwks: JwksCacheOptions = { cooldownMs: 60_000, maxAgeMs: 3_600_000 };
 * ```
 */
export interface JwksCacheOptions {
  /**
   * After a successful fetch, how long an unknown `kid` is answered from the set in hand instead of fetching again
   * (default 30 s): tokens with made-up `kid`s cause at most one request per cooldown.
   */
  cooldownMs?: number;
  /**
   * How long a fetched set is used before it is fetched again (default 10 min). Past it, no token is accepted until
   * the set has been fetched again: while the issuer's key set URL fails, every verification fails (the API answers
   * 503) and tries the URL again. So a key the issuer removed is never trusted past `maxAgeMs`, even while its key
   * set URL is down (fail closed, as jose's `cacheMaxAge`).
   */
  maxAgeMs?: number;
}

/**
 * Default {@link JwksCacheOptions.cooldownMs}: 30 s.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_JWKS_COOLDOWN_MS, type JwksCacheOptions } from "@x/cli-auth/server";
 * const jwks: JwksCacheOptions = { cooldownMs: 2 * DEFAULT_JWKS_COOLDOWN_MS };
 * ```
 */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/**
 * Default {@link JwksCacheOptions.maxAgeMs}: 10 min.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_JWKS_MAX_AGE_MS, type JwksCacheOptions } from "@x/cli-auth/server";
 * const jwks: JwksCacheOptions = { maxAgeMs: 6 * DEFAULT_JWKS_MAX_AGE_MS };
 * ```
 */
export const DEFAULT_JWKS_MAX_AGE_MS = 10 * 60_000;
/** Default timeout of one key set request when `http.timeoutMs` is not given. */
export const DEFAULT_JWKS_TIMEOUT_MS = 5_000;

/** The key that verifies a JWS with this header: what `jwtVerify` takes as its key. */
export type IssuerKey = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/**
 * Creates the issuer's key set. Nothing is fetched until the first key is asked for; then `jwksUri()` is called
 * (it may discover the issuer), and jose's remote key set is made once.
 *
 * @param jwksUri the issuer's `jwks_uri`, found when the set is first needed
 * @param options cooldown, maximum age and transport
 * @returns the key lookup for `jwtVerify`
 * @throws {CliAuthError} `invalid_options` for a negative or non-finite duration
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export function createIssuerKeySet(
  jwksUri: () => Promise<URL>,
  options: JwksCacheOptions & { http: HttpOptions },
): IssuerKey {
  const http = options.http;
  const remoteOptions = {
    cooldownDuration: duration(options.cooldownMs, DEFAULT_JWKS_COOLDOWN_MS, "jwks.cooldownMs"),
    cacheMaxAge: duration(options.maxAgeMs, DEFAULT_JWKS_MAX_AGE_MS, "jwks.maxAgeMs"),
    timeoutDuration: Math.ceil(duration(http.timeoutMs, DEFAULT_JWKS_TIMEOUT_MS, "http.timeoutMs")),
    [customFetch]: keySetFetch(http),
  };
  let remote: ReturnType<typeof createRemoteJWKSet> | undefined;

  async function lookUp(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    if (!remote) {
      const url = await jwksUri();
      if (url.protocol !== "https:" && !(url.protocol === "http:" && http.allowInsecureRequests)) {
        throw new CliAuthError("invalid_options", "The issuer's jwks_uri needs an https:// URL", {
          hint: "Use https, or set `http.allowInsecureRequests: true` for a local development server",
        });
      }
      // Concurrent first callers all awaited the one discovery; the first to get here makes the set.
      remote ??= createRemoteJWKSet(url, remoteOptions);
    }
    try {
      return await remote(header, token);
    } catch (error) {
      // A set whose key says "alg": "EdDSA" verifies "Ed25519" tokens too, and the other way round (RFC 9864).
      const alias = ed25519Alias(header.alg ?? "");
      if (alias === undefined || !(error instanceof errors.JWKSNoMatchingKey)) throw error;
      return await remote({ ...header, alg: alias }, token);
    }
  }

  return async (header, token) => {
    let key: CryptoKey;
    try {
      key = await lookUp(header, token);
    } catch (error) {
      throw keyLookupError(error);
    }
    if (isShortRsaKey(key)) throw invalidToken("The issuer's signing key is too short (RSA keys need 2048 bits or more)");
    return key;
  };
}

function keyLookupError(error: unknown): unknown {
  if (error instanceof CliAuthError) return error;
  const cause = sanitizedCause(error);
  if (error instanceof errors.JWKSNoMatchingKey) {
    return invalidToken("The access token was signed with a key the issuer does not publish", { cause });
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return invalidToken("The access token names no key (kid) and several keys of the issuer fit", { cause });
  }
  if (error instanceof errors.JWKSTimeout) {
    return new CliAuthError("timeout", "The request for the issuer's key set (jwks_uri) timed out", { cause });
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return invalidToken("The access token's signing algorithm is not accepted", { cause });
  }
  // A key of the set that cannot be imported for this algorithm (or is not a public key).
  return invalidToken("The issuer's signing key cannot be used", { cause });
}

function duration(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new CliAuthError("invalid_options", `The \`${name}\` option must be a duration of 0 ms or more`);
  }
  return value;
}

/**
 * The `fetch` jose's remote key set calls: the verifier's own (or the global one), the answer checked as this
 * package always has (HTTP 200, within `maxResponseBytes`, JSON with a `keys` array of objects), failures as
 * `CliAuthError`s (`server_error` with the status, `timeout`, `network_error`, `invalid_response`), which jose
 * passes through untouched.
 */
function keySetFetch(http: HttpOptions): (url: string, init: RequestInit) => Promise<Response> {
  const fetchImpl = http.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const maxBytes = http.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  return async (url, init) => {
    let text: string;
    try {
      const response = await fetchImpl(url, init);
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        throw new CliAuthError("server_error", `The issuer's key set (jwks_uri) answered HTTP ${response.status}`, {
          status: response.status,
        });
      }
      text = await readLimited(response, maxBytes);
    } catch (error) {
      if (error instanceof CliAuthError) throw error;
      const cause = sanitizedCause(error);
      const signal = init.signal;
      if (isTimeoutError(error) || (signal?.aborted && isTimeoutError(signal.reason))) {
        throw new CliAuthError("timeout", "The request for the issuer's key set (jwks_uri) timed out", { cause });
      }
      const detail = (cause?.cause as Error | undefined)?.message ?? cause?.message;
      throw new CliAuthError(
        "network_error",
        `The issuer's key set (jwks_uri) could not be fetched${detail ? ` (${detail})` : ""}`,
        { cause, hint: "Check that the API server can reach the issuer" },
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const keys = (body as { keys?: unknown } | undefined)?.keys;
    if (!Array.isArray(keys) || !keys.every((key) => typeof key === "object" && key !== null && !Array.isArray(key))) {
      throw new CliAuthError("invalid_response", "The issuer's key set (jwks_uri) is not a JWK Set");
    }
    return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
  };
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new CliAuthError("invalid_response", `The issuer's key set (jwks_uri) is larger than ${maxBytes} bytes`);
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
