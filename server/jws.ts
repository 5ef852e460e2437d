/**
 * JSON Web Signatures in compact form (RFC 7515), only as far as access tokens and DPoP proofs need: decoding, the
 * asymmetric algorithms of RFC 7518 §3 and RFC 8037, key selection from a JWK Set, key import and signature checks,
 * all with Web Crypto. `none` and the HMAC algorithms are refused: a resource server holds no shared secret with the
 * issuer, and a DPoP proof must be signed with an asymmetric key (RFC 9449 §11.6).
 *
 * @module
 */

import type { CliAuthError } from "../src/errors.ts";
import { invalidToken } from "./challenge.ts";
import { fromBase64Url, fromUtf8, utf8 } from "./encoding.ts";

/**
 * The JWS algorithms a verifier can accept.
 *
 * @example Usage
 * ```ts
 * import type { JwsAlgorithm } from "@x/cli-auth/server";
 * const algorithms: JwsAlgorithm[] = ["ES256", "RS256"];
 * ```
 */
export type JwsAlgorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA"
  | "Ed25519";

/**
 * Every supported algorithm: the default allow-list of a verifier.
 *
 * @example Usage
 * ```ts
 * import { createVerifier, JWS_ALGORITHMS } from "@x/cli-auth/server";
 * const verifier = createVerifier({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   algorithms: JWS_ALGORITHMS.filter((alg) => alg.startsWith("ES")),
 * });
 * ```
 */
export const JWS_ALGORITHMS: readonly JwsAlgorithm[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

/**
 * What a JWS is to the server, for the words and the error of a refusal: the access token, or a DPoP proof.
 */
export interface JwsRole {
  /** How messages name the JWS: "access token", "DPoP proof". */
  readonly noun: string;
  /** How messages name the key that verifies it. */
  readonly keyNoun: string;
  /** The error for a JWS that fails a check, with the underlying failure when there is one. */
  invalid(description: string, cause?: unknown): CliAuthError;
}

/** An access token (RFC 9068): refusals are `invalid_token`. */
export const ACCESS_TOKEN: JwsRole = {
  noun: "access token",
  keyNoun: "issuer's signing key",
  invalid: (description, cause) => invalidToken(description, { cause }),
};

/** The protected header of a JWS, as far as verification reads it. */
export interface JwsHeader {
  alg: string;
  kid?: string;
  typ?: string;
  crit?: unknown;
  [parameter: string]: unknown;
}

/** A decoded (not yet verified) JWS. */
export interface DecodedJws {
  header: JwsHeader;
  payload: Record<string, unknown>;
  /** `BASE64URL(header) || "." || BASE64URL(payload)`: what the signature covers. */
  signingInput: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Whether a token has the shape of a compact JWS (three base64url parts); says nothing about its validity.
 *
 * @param token the token
 * @returns `true` for `xxx.yyy.zzz`
 */
export function looksLikeJws(token: string): boolean {
  return COMPACT_JWS.test(token);
}

/**
 * Decodes a compact JWS whose payload is a JSON object (a JWT), without checking anything but its form.
 *
 * @param token the compact JWS
 * @param role what the JWS is (default: an access token), for the error
 * @returns header, payload, signing input and signature
 * @throws {CliAuthError} `invalid_token` when the token is not a well-formed JWT
 */
export function decodeJws(token: string, role: JwsRole = ACCESS_TOKEN): DecodedJws {
  const malformed = () => role.invalid(`The ${role.noun} is not a well-formed JWT`);
  const parts = token.split(".");
  if (parts.length !== 3 || !looksLikeJws(token)) throw malformed();
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeJsonObject(encodedHeader);
  const payload = decodeJsonObject(encodedPayload);
  if (!header || !payload) throw malformed();
  if (typeof header.alg !== "string") throw role.invalid(`The ${role.noun} names no signing algorithm`);
  if (header.kid !== undefined && typeof header.kid !== "string") throw malformed();
  let signature: Uint8Array<ArrayBuffer>;
  try {
    signature = fromBase64Url(encodedSignature);
  } catch {
    throw malformed();
  }
  return {
    header: header as JwsHeader,
    payload,
    signingInput: utf8(`${encodedHeader}.${encodedPayload}`),
    signature,
  };
}

function decodeJsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(fromUtf8(fromBase64Url(part)));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

interface AlgorithmSpec {
  kty: "RSA" | "EC" | "OKP";
  crv?: string;
  importParams: RsaHashedImportParams | EcKeyImportParams | Algorithm;
  verifyParams: RsaPssParams | EcdsaParams | Algorithm;
}

function spec(alg: string): AlgorithmSpec | undefined {
  const bits = alg.slice(2);
  const hash = `SHA-${bits}`;
  switch (alg) {
    case "RS256":
    case "RS384":
    case "RS512":
      return {
        kty: "RSA",
        importParams: { name: "RSASSA-PKCS1-v1_5", hash },
        verifyParams: { name: "RSASSA-PKCS1-v1_5" },
      };
    case "PS256":
    case "PS384":
    case "PS512":
      return {
        kty: "RSA",
        importParams: { name: "RSA-PSS", hash },
        verifyParams: { name: "RSA-PSS", saltLength: Number(bits) / 8 } as RsaPssParams,
      };
    case "ES256":
    case "ES384":
    case "ES512": {
      const crv = alg === "ES512" ? "P-521" : `P-${bits}`;
      return {
        kty: "EC",
        crv,
        importParams: { name: "ECDSA", namedCurve: crv },
        verifyParams: { name: "ECDSA", hash } as EcdsaParams,
      };
    }
    case "EdDSA":
    case "Ed25519":
      return { kty: "OKP", crv: "Ed25519", importParams: { name: "Ed25519" }, verifyParams: { name: "Ed25519" } };
    default:
      return undefined;
  }
}

/**
 * Checks the protected header before any key is looked up: the algorithm is asymmetric and allowed, and no
 * critical extension (RFC 7515 §4.1.11) is asked for.
 *
 * @param header the protected header
 * @param allowed the accepted algorithms
 * @param role what the JWS is (default: an access token), for the error
 * @throws {CliAuthError} `invalid_token`
 */
export function checkJwsHeader(header: JwsHeader, allowed: readonly string[], role: JwsRole = ACCESS_TOKEN): void {
  if (!allowed.includes(header.alg) || !spec(header.alg)) {
    throw role.invalid(`The ${role.noun}'s signing algorithm is not accepted`);
  }
  if (header.crit !== undefined) {
    throw role.invalid(`The ${role.noun} asks for critical header extensions this server does not understand`);
  }
}

/**
 * Whether a JWK can verify signatures of an algorithm: its key type and curve fit `alg`, and its own `alg`, `use`
 * and `key_ops` (when present) do not say otherwise.
 *
 * @param jwk the key
 * @param alg the JWS algorithm
 * @returns `true` when the key fits
 */
export function keyFitsAlgorithm(jwk: JsonWebKey, alg: string): boolean {
  const algorithm = spec(alg);
  if (!algorithm) return false;
  const { use } = jwk as JsonWebKey & { use?: unknown };
  if (jwk.kty !== algorithm.kty) return false;
  if (algorithm.crv !== undefined && jwk.crv !== algorithm.crv) return false;
  if (jwk.alg !== undefined && !sameAlgorithm(jwk.alg, alg)) return false;
  if (use !== undefined && use !== "sig") return false;
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes("verify")) return false;
  return true;
}

/**
 * Picks the one JWK that may verify a JWS with this header (RFC 7515 §6): same `kid` when the header has one,
 * a key type and curve that fit `alg`, `alg` / `use` / `key_ops` not saying otherwise.
 *
 * @param keys the keys of the set
 * @param header the JWS header
 * @returns the key, or `undefined` when none fits (the caller may then reload the set)
 * @throws {CliAuthError} `invalid_token` when several keys fit a header without `kid`
 */
export function selectJwk(keys: readonly JsonWebKey[], header: JwsHeader): JsonWebKey | undefined {
  const candidates = keys.filter((jwk) => {
    if (header.kid !== undefined && (jwk as { kid?: unknown }).kid !== header.kid) return false;
    return keyFitsAlgorithm(jwk, header.alg);
  });
  if (candidates.length > 1) {
    throw invalidToken("The access token names no key (kid) and several keys of the issuer fit");
  }
  return candidates[0];
}

/** `EdDSA` (RFC 8037) and `Ed25519` (RFC 9864) name the same algorithm for an Ed25519 key. */
function sameAlgorithm(a: string, b: string): boolean {
  const ed = (alg: string) => alg === "EdDSA" || alg === "Ed25519";
  return a === b || (ed(a) && ed(b));
}

const importedKeys = new WeakMap<JsonWebKey, Map<string, Promise<CryptoKey>>>();

/**
 * Imports a public JWK for one algorithm, once: the `CryptoKey` is kept as long as the JWK object lives (a JWK Set
 * reload replaces the objects, and with them the imported keys).
 *
 * @param jwk a public key from the issuer's set
 * @param alg the algorithm it is used with
 * @returns the key for `crypto.subtle.verify`
 * @throws {CliAuthError} `invalid_token` when the issuer's key cannot be used (RSA under 2048 bits, not importable)
 */
export function importVerificationKey(jwk: JsonWebKey, alg: string): Promise<CryptoKey> {
  let byAlg = importedKeys.get(jwk);
  if (!byAlg) importedKeys.set(jwk, byAlg = new Map());
  let key = byAlg.get(alg);
  if (!key) {
    key = importPublicJwk(jwk, alg, ACCESS_TOKEN);
    byAlg.set(alg, key);
    // A failed import is not remembered: the next token tries again.
    key.catch(() => byAlg.delete(alg));
  }
  return key;
}

/**
 * Imports the public members of a JWK for one algorithm, without caching: the key type must fit `alg`
 * (see {@link keyFitsAlgorithm}), and RSA keys need 2048 bits or more.
 *
 * @param jwk a public key
 * @param alg the algorithm it is used with
 * @param role what the key verifies, for the error
 * @returns the key for `crypto.subtle.verify`
 * @throws {CliAuthError} `invalid_token` when the key cannot be used
 */
export async function importPublicJwk(jwk: JsonWebKey, alg: string, role: JwsRole): Promise<CryptoKey> {
  const algorithm = spec(alg);
  if (!algorithm) throw role.invalid(`The ${role.noun}'s signing algorithm is not accepted`);
  // Only the public members: `alg`, `use`, `key_ops` were checked by keyFitsAlgorithm, and stale ones would fail the
  // import.
  const { kty, n, e, crv, x, y } = jwk;
  const material: JsonWebKey = kty === "RSA" ? { kty, n, e } : kty === "EC" ? { kty, crv, x, y } : { kty, crv, x };
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("jwk", material, algorithm.importParams, true, ["verify"]);
  } catch (cause) {
    throw role.invalid(`The ${role.keyNoun} cannot be used`, cause);
  }
  if (kty === "RSA" && (key.algorithm as RsaHashedKeyAlgorithm).modulusLength < 2048) {
    throw role.invalid(`The ${role.keyNoun} is too short (RSA keys need 2048 bits or more)`);
  }
  return key;
}

/**
 * Verifies the signature of a decoded JWS with a key.
 *
 * @param jws the decoded token
 * @param key the imported public key
 * @returns `true` when the signature is valid; never throws for a bad signature
 */
export async function verifyJwsSignature(jws: DecodedJws, key: CryptoKey): Promise<boolean> {
  const algorithm = spec(jws.header.alg);
  if (!algorithm) return false;
  try {
    return await crypto.subtle.verify(algorithm.verifyParams, key, jws.signature, jws.signingInput);
  } catch {
    return false;
  }
}
