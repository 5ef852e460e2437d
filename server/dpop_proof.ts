/**
 * Checking one DPoP proof (RFC 9449 §4.3) against the request it came with and the access token it accompanies:
 * form, `typ`, algorithm, the public key in its `jwk` header and the signature made with it, `htm`, `htu`, `iat`
 * and `ath`. What the proof is then matched against (the token's `cnf.jkt`, server nonces, replays) is the caller's
 * part, in proof_of_possession.ts. Built on jws.ts, with the words and the error of a proof.
 *
 * @module
 */

import { invalidDpopProof } from "./challenge.ts";
import { toBase64Url, utf8 } from "./encoding.ts";
import { jwkThumbprint } from "./jwk_thumbprint.ts";
import {
  checkJwsHeader,
  decodeJws,
  importPublicJwk,
  type JwsRole,
  keyFitsAlgorithm,
  verifyJwsSignature,
} from "./jws.ts";

/** A DPoP proof: refusals are `invalid_token` with the OAuth error `invalid_dpop_proof`. */
const PROOF: JwsRole = {
  noun: "DPoP proof",
  keyNoun: "DPoP proof's key (jwk)",
  invalid: (description, cause) => invalidDpopProof(description, cause),
};

/** Longest proof accepted: a proof with an RSA-4096 key is about 1.5 KiB. */
export const MAX_PROOF_LENGTH = 8 * 1024;
/** Longest `jti` accepted (RFC 9449 §11.1: refuse unnecessarily large ones). */
export const MAX_JTI_LENGTH = 256;
/** JWK members that only a private or symmetric key has (RFC 9449 §4.3 step 7). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/** How many proof keys a verifier keeps imported: a client signs every request with the same key. */
const KEY_CACHE_ENTRIES = 1_000;

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
   * The verification key for a proof's `jwk`, imported once per thumbprint and algorithm.
   *
   * @param jwk the public key from the proof header
   * @param alg the proof's algorithm
   * @param jkt the key's thumbprint
   * @returns the key
   * @throws {CliAuthError} `invalid_token` (`invalid_dpop_proof`) for a key that cannot be imported
   */
  key(jwk: JsonWebKey, alg: string, jkt: string): Promise<CryptoKey> {
    const id = `${alg}:${jkt}`;
    let key = this.#keys.get(id);
    if (key) {
      this.#keys.delete(id);
    } else {
      const imported = importPublicJwk(jwk, alg, PROOF);
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

/**
 * Checks a DPoP proof on its own and against the request and access token (RFC 9449 §4.3 steps 2 to 9, 11 and the
 * `ath` half of 12). Cheap checks come first, the signature last.
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
  // Several DPoP headers arrive joined by ", ", which no compact JWS contains: step 1 is checked here too.
  if (proof.length > MAX_PROOF_LENGTH) throw invalidDpopProof("The DPoP proof is too long");
  const jws = decodeJws(proof, PROOF);
  const { header, payload } = jws;
  if (typeof header.typ !== "string" || !/^(application\/)?dpop\+jwt$/i.test(header.typ)) {
    throw invalidDpopProof('The DPoP proof is not of type "dpop+jwt"');
  }
  checkJwsHeader(header, expected.algorithms, PROOF);
  const jwk = header.jwk;
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
    throw invalidDpopProof("The DPoP proof carries no public key (jwk)");
  }
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
    throw invalidDpopProof("The DPoP proof's jwk holds a private or symmetric key");
  }
  if (!keyFitsAlgorithm(jwk as JsonWebKey, header.alg)) {
    throw invalidDpopProof("The DPoP proof's jwk does not fit its signing algorithm");
  }

  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== "string" || jti === "" || jti.length > MAX_JTI_LENGTH) {
    throw invalidDpopProof("The DPoP proof has no usable jti");
  }
  if (htm !== expected.method) throw invalidDpopProof("The DPoP proof was made for another HTTP method (htm)");
  const target = withoutQuery(expected.url);
  if (typeof htu !== "string" || target === undefined || withoutQuery(htu) !== target) {
    throw invalidDpopProof("The DPoP proof was made for another URL (htu)");
  }
  if (typeof iat !== "number" || !Number.isFinite(iat)) throw invalidDpopProof("The DPoP proof has no iat");
  if (Math.abs(expected.now / 1000 - iat) > expected.maxSkewSeconds) {
    throw invalidDpopProof("The DPoP proof is too old or from the future (iat)");
  }
  if (typeof ath !== "string") throw invalidDpopProof("The DPoP proof is not bound to the access token (no ath)");
  if (ath !== toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(expected.accessToken))))) {
    throw invalidDpopProof("The DPoP proof was made for another access token (ath)");
  }
  if (nonce !== undefined && typeof nonce !== "string") throw invalidDpopProof("The DPoP proof's nonce is malformed");

  let jkt: string;
  try {
    jkt = await jwkThumbprint(jwk as JsonWebKey);
  } catch (cause) {
    throw invalidDpopProof("The DPoP proof's jwk is incomplete", cause);
  }
  const key = await keys.key(jwk as JsonWebKey, header.alg, jkt);
  if (!await verifyJwsSignature(jws, key)) throw invalidDpopProof("The DPoP proof's signature is invalid");
  const checked: CheckedProof = { jkt, jti, iat };
  if (nonce !== undefined) checked.nonce = nonce;
  return checked;
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
