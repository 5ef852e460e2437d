/**
 * Sender-constrained tokens: the step after a token is verified that checks it was presented by whoever holds the
 * key it is bound to. This is the one place that sees the request, the scheme, the token and its claims together.
 *
 * DPoP (RFC 9449): a token whose claims (JWT payload or introspection answer) carry `cnf.jkt` is accepted only with
 * the `DPoP` scheme and a valid proof (_dpop_proof.ts) made with the key of that thumbprint, carrying a server nonce
 * when the verifier demands them, and never seen before (dpop_replay_cache.ts). A token bound to a key is never
 * accepted as a bearer token (RFC 9449 §7.2), nor one bound by a method this server does not check (RFC 7800).
 *
 * Why not oauth4webapi's `validateJwtAccessToken`, which checks DPoP proofs too: it checks only JWTs (its proof check
 * is not exported, and opaque tokens need the same one), fixes the `iat` window at ±300 s, requires `client_id`,
 * `jti` and `iat` in every access token, keeps its own copy of the key set (refetched after 300 s and on unknown
 * keys, bypassing the verifier's key set), and tracks no `jti` nor nonce; see the commit that added this file.
 *
 * @module
 */

import { CliAuthError } from "../src/common/errors.ts";
import type { PresentedCredentials } from "./_authorization_header.ts";
import { invalidDpopProof, invalidToken, useDpopNonce } from "./_refusals.ts";
import type { DpopNonceSource } from "./dpop_nonce.ts";
import { checkDpopProof, ProofKeyCache, sha256 } from "./_dpop_proof.ts";
import { createDpopReplayCache, type DpopReplayCache } from "./dpop_replay_cache.ts";
import { JWS_ALGORITHMS, type JwsAlgorithm } from "./jws_algorithms.ts";
import type { VerifiedToken } from "./verified_token.ts";

/**
 * How a verifier checks DPoP-bound tokens (RFC 9449). DPoP is accepted by default; `dpop: false` turns it off.
 *
 * @example Require DPoP, with server nonces, behind a proxy that rewrites the URL
 * ```ts
 * import { createDpopNonceSource, type DpopOptions } from "@x/cli-auth/server";
 * const dpop: DpopOptions = {
 *   required: true,
 *   nonce: createDpopNonceSource(),
 *   algorithms: ["ES256", "EdDSA"],
 *   requestUrl: (request) => new URL(new URL(request.url).pathname, "https://api.example.com"),
 * };
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 */
export interface DpopOptions {
  /** Accepted proof algorithms (default: every asymmetric one of {@link JWS_ALGORITHMS}); sent as `algs`. */
  algorithms?: readonly JwsAlgorithm[];
  /**
   * How far a proof's `iat` may be from now, either way, in seconds, on top of the verifier's
   * `clockToleranceSeconds` (default 60). Replays are remembered for as long.
   */
  proofWindowSeconds?: number;
  /**
   * Where the `jti` of accepted proofs are remembered (default: an in-memory cache per verifier, see
   * {@link createDpopReplayCache}). Instances behind one load balancer should share one.
   */
  replayCache?: DpopReplayCache;
  /** Demand a server nonce in every proof (RFC 9449 §9), e.g. {@link createDpopNonceSource}. */
  nonce?: DpopNonceSource;
  /** Accept only DPoP-bound tokens: Bearer requests get a bare `DPoP` challenge (default `false`). */
  required?: boolean;
  /**
   * The URL the client called, for `htu` (default `request.url`). Set it when a proxy in front changes scheme, host
   * or path.
   */
  requestUrl?: (request: Request) => string | URL;
}

/**
 * Default {@link DpopOptions.proofWindowSeconds}: 60 s.
 *
 * @example Usage
 * ```ts
 * import { createVerifier, DEFAULT_DPOP_PROOF_WINDOW_SECONDS } from "@x/cli-auth/server";
 * const verifier = createVerifier({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   dpop: { proofWindowSeconds: DEFAULT_DPOP_PROOF_WINDOW_SECONDS / 2 },
 * });
 * ```
 */
export const DEFAULT_DPOP_PROOF_WINDOW_SECONDS = 60;

/** Everything a proof-of-possession check may look at. */
export interface PossessionContext {
  /** How the token was presented; absent when the token came without a request (`verifyToken`). */
  credentials?: PresentedCredentials;
  /** The request, for the DPoP proof, its `htm` and `htu`; absent for `verifyToken`. */
  request?: Request;
  /** The verified token. */
  token: VerifiedToken;
  /** The time of the verification (epoch ms), read once: the proof's age and its replay record are judged by it. */
  now: number;
}

/** A verifier's proof-of-possession policy. */
export interface PossessionCheck {
  /** Whether Bearer tokens are accepted at all (not when DPoP is required). */
  readonly bearer: boolean;
  /** The accepted DPoP proof algorithms, or `undefined` when DPoP is off. */
  readonly dpopAlgorithms?: readonly string[];
  /**
   * Checks that the token was presented as its binding requires.
   *
   * @returns the token, with `confirmation` when a DPoP proof was checked
   * @throws {CliAuthError} `invalid_token` (OAuth error `invalid_token`, `invalid_dpop_proof` or `use_dpop_nonce`)
   */
  check(context: PossessionContext): Promise<VerifiedToken>;
}

/**
 * Makes the proof-of-possession step of a verifier.
 *
 * @param options the verifier's `dpop` option
 * @param clock the verifier's clock tolerance and clock
 * @returns the check
 * @throws {CliAuthError} `invalid_options` for a malformed `dpop` option
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
 */
export function createPossessionCheck(
  options: DpopOptions | false | undefined,
  clock: { clockToleranceSeconds: number; now: () => number },
): PossessionCheck {
  if (options === false) return { bearer: true, check: refuseDpop };
  const dpop = options ?? {};
  if (typeof dpop !== "object" || dpop === null) {
    throw new CliAuthError("invalid_options", "The `dpop` option must be an object or false");
  }
  const algorithms = dpop.algorithms ?? JWS_ALGORITHMS;
  if (
    !Array.isArray(algorithms) || algorithms.length === 0 || algorithms.some((alg) => !JWS_ALGORITHMS.includes(alg))
  ) {
    throw new CliAuthError("invalid_options", `The \`dpop.algorithms\` option may name only ${JWS_ALGORITHMS.join(", ")}`);
  }
  const window = dpop.proofWindowSeconds ?? DEFAULT_DPOP_PROOF_WINDOW_SECONDS;
  if (!Number.isFinite(window) || window < 0) {
    throw new CliAuthError("invalid_options", "The `dpop.proofWindowSeconds` option must be 0 or more");
  }
  if (dpop.replayCache !== undefined && typeof dpop.replayCache?.use !== "function") {
    throw new CliAuthError("invalid_options", "The `dpop.replayCache` option must have a use(id, expiresAt) method");
  }
  const nonce = dpop.nonce;
  if (nonce !== undefined && (typeof nonce?.current !== "function" || typeof nonce.check !== "function")) {
    throw new CliAuthError("invalid_options", "The `dpop.nonce` option must have current() and check(nonce) methods");
  }
  if (dpop.requestUrl !== undefined && typeof dpop.requestUrl !== "function") {
    throw new CliAuthError("invalid_options", "The `dpop.requestUrl` option must be a function");
  }
  const required = dpop.required === true;
  const maxSkewSeconds = window + clock.clockToleranceSeconds;
  const replayCache = dpop.replayCache ?? createDpopReplayCache({ now: clock.now });
  const keys = new ProofKeyCache();
  const requestUrl = dpop.requestUrl ?? ((request: Request) => request.url);

  return {
    bearer: !required,
    dpopAlgorithms: [...algorithms],
    async check({ credentials, request, token, now }) {
      const { jkt, bound } = confirmationOf(token);
      if (credentials?.scheme !== "DPoP" || request === undefined) {
        if (jkt !== undefined) {
          throw invalidToken("The access token is bound to a key (DPoP): send it with the DPoP scheme and a proof");
        }
        refuseBound(bound);
        if (required) throw invalidToken("This API accepts only DPoP-bound access tokens", { missing: true });
        return token;
      }
      if (jkt === undefined) {
        throw invalidToken(
          bound
            ? "The access token is bound to a key by a method this API does not check"
            : "The access token is not DPoP-bound: send it with the Bearer scheme",
        );
      }
      const proof = request.headers.get("dpop");
      if (proof === null) throw invalidDpopProof("The request carries no DPoP proof");
      const checked = await checkDpopProof(proof, {
        method: request.method,
        url: String(requestUrl(request)),
        accessToken: credentials.token,
        algorithms,
        maxSkewSeconds,
        now,
      }, keys);
      if (checked.jkt !== jkt) {
        throw invalidToken("The DPoP proof is signed with a key the access token is not bound to (cnf.jkt)");
      }
      if (nonce && (checked.nonce === undefined || !await nonce.check(checked.nonce))) {
        throw useDpopNonce(await nonce.current());
      }
      const id = await sha256(`${jkt}:${checked.jti}`);
      // Kept through the last instant the proof is accepted for its age (inclusive), judged at the same `now`.
      if (!await replayCache.use(id, (checked.iat + maxSkewSeconds) * 1000, now)) {
        throw invalidDpopProof("The DPoP proof was used before (replayed jti)");
      }
      return { ...token, confirmation: { jkt } };
    },
  };
}

/** With DPoP off: the `DPoP` scheme is answered like an unknown one, and no bound token passes as a bearer token. */
function refuseDpop({ credentials, token }: PossessionContext): Promise<VerifiedToken> {
  try {
    if (credentials?.scheme === "DPoP") {
      throw invalidToken("This API does not accept DPoP-bound tokens; send a Bearer token", { missing: true });
    }
    refuseBound(confirmationOf(token).bound);
    return Promise.resolve(token);
  } catch (error) {
    return Promise.reject(error);
  }
}

function refuseBound(bound: boolean): void {
  if (bound) throw invalidToken("The access token is bound to a key (cnf) and cannot be used as a bearer token");
}

/** The token's `cnf` (RFC 7800): whether there is one, and its `jkt` (RFC 9449 §6) when that is a string. */
function confirmationOf(token: VerifiedToken): { bound: boolean; jkt?: string } {
  const cnf = token.claims.cnf;
  if (cnf === undefined || cnf === null) return { bound: false };
  const jkt = typeof cnf === "object" ? (cnf as { jkt?: unknown }).jkt : undefined;
  return typeof jkt === "string" && jkt !== "" ? { bound: true, jkt } : { bound: true };
}
