/**
 * Checking one DPoP proof (RFC 9449 §4.3) against the request it came with and the access token it accompanies.
 * jose's `jwtVerify` with `EmbeddedJWK` checks the form, the algorithm allow-list, `typ` `dpop+jwt`, the required
 * claims and the signature made with the public key in the proof's `jwk` header; this file adds what jose does not
 * know about: which keys a proof may carry, `htm`, `htu`, the `iat` window and `ath`. What the proof is then matched
 * against (the token's `cnf.jkt`, server nonces, replays) is the caller's part, in proof_of_possession.ts.
 *
 * @module
 */

import {
  base64url,
  calculateJwkThumbprint,
  EmbeddedJWK,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  jwtVerify,
} from "jose";
import { invalidDpopProof } from "./_refusals.ts";
import { joseRefusal, type JwtRole } from "./_jose_errors.ts";
import { isShortRsaKey, keyFitsAlgorithm } from "./jws_algorithms.ts";

/** A DPoP proof: refusals are `invalid_token` with the OAuth error `invalid_dpop_proof`. */
const PROOF: JwtRole = {
  noun: "DPoP proof",
  wrongType: 'The DPoP proof is not of type "dpop+jwt"',
  claims: {
    jti: "The DPoP proof has no usable jti",
    htm: "The DPoP proof was made for another HTTP method (htm)",
    htu: "The DPoP proof was made for another URL (htu)",
    iat: "The DPoP proof has no iat",
    exp: "The DPoP proof is too old or from the future (exp)",
    nbf: "The DPoP proof is too old or from the future (nbf)",
  },
  invalid: (description, cause) => invalidDpopProof(description, cause),
};

/** Longest proof accepted: a proof with an RSA-4096 key is about 1.5 KiB. */
export const MAX_PROOF_LENGTH = 8 * 1024;
/** Longest `jti` accepted (RFC 9449 §11.1: refuse unnecessarily large ones). */
export const MAX_JTI_LENGTH = 256;
/** JWK members that only a private or symmetric key has (RFC 9449 §4.3 step 7). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];
/** How many proof keys a verifier keeps imported: a client signs every request with the same key. */
const KEY_CACHE_ENTRIES = 1_000;

/**
 * The base64url SHA-256 thumbprint of a public JWK (RFC 7638 §3), jose's `calculateJwkThumbprint`: the required
 * members of its key type in lexicographic order, as JSON without whitespace, hashed. Other members (`kid`, `alg`,
 * `use`) do not count, so a key has one thumbprint however it is labelled.
 *
 * @param jwk a public JWK of type EC, OKP or RSA
 * @returns the thumbprint, 43 base64url characters
 * @throws {TypeError} for another key type or a required member that is missing or not a string
 *
 * @example The `cnf.jkt` a DPoP key's tokens carry
 * ```ts ignore
 * import { jwkThumbprint } from "./_dpop_proof.ts";
 * const { publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
 * const jkt = await jwkThumbprint(await crypto.subtle.exportKey("jwk", publicKey));
 * console.assert(jkt.length === 43);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-6.1
 */
export async function jwkThumbprint(jwk: JsonWebKey): Promise<string> {
  const kty = jwk?.kty;
  if (kty !== "EC" && kty !== "OKP" && kty !== "RSA") {
    throw new TypeError("Cannot compute the thumbprint of this JWK: its kty is not EC, OKP or RSA");
  }
  try {
    return await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]);
  } catch (cause) {
    throw new TypeError(`Cannot compute the thumbprint of this JWK: ${(cause as Error).message}`, { cause });
  }
}

/** What a proof must match. */
export interface ProofExpectations {
  /** The request method (`htm`). */
  method: string;
  /** The request URL (`htu`, compared without query and fragment). */
  url: string;
  /** The access token the proof must be bound to by `ath`. */
  accessToken: string;
  /** Accepted proof algorithms. */
  algorithms: readonly string[];
  /** How far `iat` may be from `now`, either way, in seconds. */
  maxSkewSeconds: number;
  /** The current time, epoch ms. */
  now: number;
}

/** A proof that passed every check of its own. */
export interface CheckedProof {
  /** The JWK SHA-256 thumbprint of the proof's key (RFC 7638), to compare with the token's `cnf.jkt`. */
  jkt: string;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  /** The server nonce the proof carries, if any. */
  nonce?: string;
}

/** Imported proof keys by thumbprint and algorithm, the most recently used kept. */
export class ProofKeyCache {
  readonly #keys = new Map<string, Promise<CryptoKey>>();

  /**
   * The verification key for a proof's `jwk`, imported by jose's `EmbeddedJWK` once per thumbprint and algorithm.
   *
   * @param header the proof's protected header
   * @param token the proof
   * @param jkt the thumbprint of its `jwk`
   * @returns the key
   * @throws {CliAuthError} `invalid_token` (`invalid_dpop_proof`) for a key that cannot be imported
   */
  key(header: JWSHeaderParameters, token: FlattenedJWSInput, jkt: string): Promise<CryptoKey> {
    const id = `${header.alg}:${jkt}`;
    let key = this.#keys.get(id);
    if (key) {
      this.#keys.delete(id);
    } else {
      const imported = importProofKey(header, token);
      // A key that cannot be imported is not remembered: the next proof with it is refused the same way.
      imported.catch(() => {
        if (this.#keys.get(id) === imported) this.#keys.delete(id);
      });
      key = imported;
      if (this.#keys.size >= KEY_CACHE_ENTRIES) this.#keys.delete(this.#keys.keys().next().value!);
    }
    this.#keys.set(id, key);
    return key;
  }
}

async function importProofKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
  let key: CryptoKey;
  try {
    key = await EmbeddedJWK(header, token);
  } catch (cause) {
    throw invalidDpopProof("The DPoP proof's key (jwk) cannot be used", cause);
  }
  if (isShortRsaKey(key)) throw invalidDpopProof("The DPoP proof's key (jwk) is too short (RSA keys need 2048 bits or more)");
  return key;
}

/**
 * Checks a DPoP proof on its own and against the request and access token (RFC 9449 §4.3 steps 2 to 9, 11 and the
 * `ath` half of 12).
 *
 * @param proof the `DPoP` header value
 * @param expected method, URL, token, algorithms and time window
 * @param keys where imported proof keys are kept
 * @returns the proof's key thumbprint, `jti`, `iat` and `nonce`
 * @throws {CliAuthError} `invalid_token` with `error` `invalid_dpop_proof`
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 */
export async function checkDpopProof(
  proof: string,
  expected: ProofExpectations,
  keys: ProofKeyCache,
): Promise<CheckedProof> {
  // Several DPoP headers arrive joined by ", ", which no compact JWS contains (jose refuses it): step 1.
  if (proof.length > MAX_PROOF_LENGTH) throw invalidDpopProof("The DPoP proof is too long");
  let jkt = "";
  const key = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
    const jwk = header.jwk;
    if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
      throw invalidDpopProof("The DPoP proof carries no public key (jwk)");
    }
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
      throw invalidDpopProof("The DPoP proof's jwk holds a private or symmetric key");
    }
    if (!keyFitsAlgorithm(jwk as JsonWebKey, header.alg!)) {
      throw invalidDpopProof("The DPoP proof's jwk does not fit its signing algorithm");
    }
    try {
      jkt = await jwkThumbprint(jwk as JsonWebKey);
    } catch (cause) {
      throw invalidDpopProof("The DPoP proof's jwk is incomplete", cause);
    }
    return await keys.key(header, token, jkt);
  };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, key, {
      typ: "dpop+jwt",
      algorithms: [...expected.algorithms],
      requiredClaims: ["jti", "htm", "htu", "iat"],
      clockTolerance: expected.maxSkewSeconds,
      currentDate: new Date(expected.now),
    }));
  } catch (error) {
    throw joseRefusal(error, PROOF);
  }

  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== "string" || jti === "" || jti.length > MAX_JTI_LENGTH) throw invalidDpopProof(PROOF.claims.jti!);
  if (htm !== expected.method) throw invalidDpopProof(PROOF.claims.htm!);
  const target = withoutQuery(expected.url);
  if (typeof htu !== "string" || target === undefined || withoutQuery(htu) !== target) {
    throw invalidDpopProof(PROOF.claims.htu!);
  }
  if (typeof iat !== "number" || !Number.isFinite(iat)) throw invalidDpopProof(PROOF.claims.iat!);
  if (Math.abs(expected.now / 1000 - iat) > expected.maxSkewSeconds) {
    throw invalidDpopProof("The DPoP proof is too old or from the future (iat)");
  }
  if (typeof ath !== "string") throw invalidDpopProof("The DPoP proof is not bound to the access token (no ath)");
  if (ath !== await sha256(expected.accessToken)) {
    throw invalidDpopProof("The DPoP proof was made for another access token (ath)");
  }
  if (nonce !== undefined && typeof nonce !== "string") throw invalidDpopProof("The DPoP proof's nonce is malformed");
  const checked: CheckedProof = { jkt, jti, iat };
  if (nonce !== undefined) checked.nonce = nonce;
  return checked;
}

/** base64url(SHA-256(UTF-8 of text)). */
export async function sha256(text: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/**
 * A URL without query and fragment, after the syntax- and scheme-based normalisation `URL` does (RFC 9449 §4.3:
 * case of scheme and host, default port, percent-encoding).
 */
function withoutQuery(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    parsed.search = "";
    parsed.hash = "";
    return parsed.href;
  } catch {
    return undefined;
  }
}
