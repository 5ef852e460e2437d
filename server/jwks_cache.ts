/**
 * The issuer's signing keys, fetched from its `jwks_uri` and kept: one request for any number of verifications,
 * a reload when a token names a key the set does not have (at most once per cooldown, so that tokens with made-up
 * `kid`s cannot make the server hammer the issuer), concurrent callers sharing one request, a timeout on each, and a
 * sequence number so that an older answer never replaces a newer one. Modelled on jose's `createRemoteJWKSet`.
 *
 * @module
 */

import { CliAuthError, isTimeoutError, sanitizedCause } from "../src/errors.ts";
import { DEFAULT_MAX_RESPONSE_BYTES, type HttpOptions, timeoutSignal } from "../src/http.ts";
import { invalidToken } from "./challenge.ts";
import { importVerificationKey, type JwsHeader, selectJwk } from "./jws.ts";
import { canShareInFlight } from "./in_flight.ts";

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
   * After a fetch, how long an unknown `kid` is answered from the set in hand instead of fetching again
   * (default 30 s).
   */
  cooldownMs?: number;
  /**
   * How long a fetched set is used before it is fetched again (default 10 min). If that fetch fails, the set in hand
   * is used for at most one `cooldownMs` more (the grace: one retry at its end); after `maxAgeMs + cooldownMs`
   * without a successful fetch, no token is accepted (the verifier answers 503) until the set can be fetched again,
   * so a key the issuer removed is not trusted for long while its key set URL is down.
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

/** Everything {@link createRemoteJwks} takes. */
export interface RemoteJwksOptions extends JwksCacheOptions {
  /** Transport: timeout (default 5 s), custom fetch, `allowInsecureRequests`. */
  http?: HttpOptions;
  /** The clock, epoch ms. */
  now?: () => number;
  /**
   * Whether concurrent callers share one request (default: yes, except on Cloudflare Workers, where a promise
   * started by one request must not be awaited by another; the sequence number then keeps the newest answer).
   */
  singleFlight?: boolean;
}

/** A remote JWK Set. */
export interface RemoteJwks {
  /**
   * The key that verifies a JWS with this header, fetching or reloading the set as needed.
   *
   * @throws {CliAuthError} `invalid_token` (no such key after a reload, or a key that cannot be used);
   *   `network_error`, `timeout`, `server_error`, `invalid_response`, `invalid_options` when the set cannot be had
   */
  key(header: JwsHeader): Promise<CryptoKey>;
  /** Fetches the set now; callers at the same time share one request. */
  reload(): Promise<void>;
  /** When the set in hand was fetched (epoch ms), if it was. */
  readonly fetchedAt: number | undefined;
}

/**
 * Creates a {@link RemoteJwks} for a `jwks_uri`. Nothing is fetched until the first key is asked for.
 *
 * @param url the issuer's `jwks_uri`, or a function that finds it (e.g. by discovery) when the set is first needed
 * @param options cooldown and maximum age, transport options, and a clock (epoch ms) for tests
 * @returns the key set
 * @throws {CliAuthError} `invalid_options` for a negative or non-finite duration
 *
 * @example Usage
 * ```ts ignore
 * import { createRemoteJwks } from "./jwks_cache.ts";
 * const jwks = createRemoteJwks(new URL("https://auth.example.com/jwks"), { cooldownMs: 30_000 });
 * const key = await jwks.key({ alg: "ES256", kid: "ec-1" });
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export function createRemoteJwks(
  url: URL | (() => Promise<URL>),
  options: RemoteJwksOptions = {},
): RemoteJwks {
  return new RemoteJwkSet(url, options);
}

class RemoteJwkSet implements RemoteJwks {
  readonly #url: URL | (() => Promise<URL>);
  readonly #http: HttpOptions;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #singleFlight: boolean;
  #keys: readonly JsonWebKey[] | undefined;
  #fetchedAt: number | undefined;
  /** When the last fetch started, successful or not: the cooldown counts from here. */
  #attemptedAt = -Infinity;
  #pending: Promise<void> | undefined;
  /** Why the latest fetch failed, while no later one has succeeded. */
  #failure: unknown;
  /** Number of the latest fetch started, and of the one whose keys are in hand. */
  #started = 0;
  #applied = 0;

  constructor(url: URL | (() => Promise<URL>), options: RemoteJwksOptions) {
    this.#url = url;
    this.#http = options.http ?? {};
    this.#cooldownMs = duration(options.cooldownMs, DEFAULT_JWKS_COOLDOWN_MS, "jwks.cooldownMs");
    this.#maxAgeMs = duration(options.maxAgeMs, DEFAULT_JWKS_MAX_AGE_MS, "jwks.maxAgeMs");
    this.#now = options.now ?? Date.now;
    this.#singleFlight = options.singleFlight ?? canShareInFlight();
  }

  get fetchedAt(): number | undefined {
    return this.#fetchedAt;
  }

  async key(header: JwsHeader): Promise<CryptoKey> {
    if (this.#keys === undefined) {
      await this.reload();
    } else if (this.#now() - this.#fetchedAt! >= this.#maxAgeMs && this.#offCooldown()) {
      // Keys change rarely: while the issuer cannot be reached, keep verifying with the set in hand during the grace
      // (one cooldown), and try again once the cooldown has passed.
      await this.reload().catch(() => {});
    }
    if (this.#now() - this.#fetchedAt! >= this.#maxAgeMs + this.#cooldownMs) {
      // Past the grace: the set may hold keys the issuer has since removed. Fail closed until a fetch succeeds.
      throw staleKeySet(this.#failure);
    }
    let jwk = selectJwk(this.#keys!, header);
    if (jwk === undefined && this.#offCooldown()) {
      await this.reload();
      jwk = selectJwk(this.#keys!, header);
    }
    if (jwk === undefined) throw invalidToken("The access token was signed with a key the issuer does not publish");
    return await importVerificationKey(jwk, header.alg);
  }

  reload(): Promise<void> {
    if (this.#pending && this.#singleFlight) return this.#pending;
    const current: Promise<void> = this.#fetch().finally(() => {
      if (this.#pending === current) this.#pending = undefined;
    });
    this.#pending = current;
    return current;
  }

  #offCooldown(): boolean {
    return this.#now() - this.#attemptedAt >= this.#cooldownMs;
  }

  async #fetch(): Promise<void> {
    const sequence = ++this.#started;
    this.#attemptedAt = this.#now();
    let keys: JsonWebKey[];
    try {
      const url = typeof this.#url === "function" ? await this.#url() : this.#url;
      keys = await fetchJwks(url, this.#http);
    } catch (error) {
      this.#failure = error;
      throw error;
    }
    if (sequence > this.#applied) {
      this.#applied = sequence;
      this.#keys = keys;
      this.#fetchedAt = this.#now();
      this.#failure = undefined;
    }
  }
}

/** The error for a key set past its maximum age and grace: the latest fetch's failure, as a new error. */
function staleKeySet(failure: unknown): CliAuthError {
  const message = "The issuer's key set (jwks_uri) is past its maximum age and could not be fetched again";
  if (failure instanceof CliAuthError) {
    return new CliAuthError(failure.code, `${message}: ${failure.message}`, {
      cause: failure,
      status: failure.status,
      hint: failure.hint ?? "Check that the API server can reach the issuer",
    });
  }
  return new CliAuthError("server_error", message, {
    cause: sanitizedCause(failure),
    hint: "Check that the API server can reach the issuer",
  });
}

function duration(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new CliAuthError("invalid_options", `The \`${name}\` option must be a duration of 0 ms or more`);
  }
  return value;
}

/**
 * Fetches and checks a JWK Set: HTTP 200, JSON, `keys` an array of objects, within the timeout and size limit.
 *
 * @param url the `jwks_uri`
 * @param http transport options
 * @returns the keys
 */
async function fetchJwks(url: URL, http: HttpOptions): Promise<JsonWebKey[]> {
  if (url.protocol !== "https:" && !(url.protocol === "http:" && http.allowInsecureRequests)) {
    throw new CliAuthError("invalid_options", "The issuer's jwks_uri needs an https:// URL", {
      hint: "Use https, or set `http.allowInsecureRequests: true` for a local development server",
    });
  }
  const fetchImpl = http.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const signal = timeoutSignal(http.timeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS);
  let text: string;
  try {
    const response = await fetchImpl(url.href, {
      headers: { accept: "application/jwk-set+json, application/json" },
      redirect: "manual",
      signal,
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new CliAuthError("server_error", `The issuer's key set (jwks_uri) answered HTTP ${response.status}`, {
        status: response.status,
      });
    }
    text = await readLimited(response, http.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  } catch (error) {
    if (error instanceof CliAuthError) throw error;
    const cause = sanitizedCause(error);
    if (isTimeoutError(error) || (signal.aborted && isTimeoutError(signal.reason))) {
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
  return keys as JsonWebKey[];
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
