/**
 * The JWS algorithms a verifier accepts (RFC 7518 §3, RFC 8037, RFC 9864), and which public keys fit each. `none`
 * and the HMAC algorithms are never among them: a resource server holds no shared secret with the issuer, and a
 * DPoP proof must be signed with an asymmetric key (RFC 9449 §11.6). Signatures themselves are jose's work.
 *
 * @module
 */

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

/** The key type and curve each algorithm signs with. */
const KEY_TYPES: Record<JwsAlgorithm, { kty: string; crv?: string }> = {
  RS256: { kty: "RSA" },
  RS384: { kty: "RSA" },
  RS512: { kty: "RSA" },
  PS256: { kty: "RSA" },
  PS384: { kty: "RSA" },
  PS512: { kty: "RSA" },
  ES256: { kty: "EC", crv: "P-256" },
  ES384: { kty: "EC", crv: "P-384" },
  ES512: { kty: "EC", crv: "P-521" },
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  Ed25519: { kty: "OKP", crv: "Ed25519" },
};

/**
 * `EdDSA` (RFC 8037) and `Ed25519` (RFC 9864) name the same algorithm for an Ed25519 key.
 *
 * @param alg a JWS algorithm
 * @returns the other name of an Ed25519 algorithm, or `undefined`
 */
export function ed25519Alias(alg: string): string | undefined {
  return alg === "EdDSA" ? "Ed25519" : alg === "Ed25519" ? "EdDSA" : undefined;
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
  const fit = Object.hasOwn(KEY_TYPES, alg) ? KEY_TYPES[alg as JwsAlgorithm] : undefined;
  if (!fit || jwk.kty !== fit.kty || (fit.crv !== undefined && jwk.crv !== fit.crv)) return false;
  const { use } = jwk as JsonWebKey & { use?: unknown };
  if (jwk.alg !== undefined && jwk.alg !== alg && jwk.alg !== ed25519Alias(alg)) return false;
  if (use !== undefined && use !== "sig") return false;
  return !(Array.isArray(jwk.key_ops) && !jwk.key_ops.includes("verify"));
}

/**
 * Whether a verification key is too weak to trust: RSA under 2048 bits (RFC 7518 §3.3).
 *
 * @param key the imported public key
 * @returns `true` for an RSA key under 2048 bits
 */
export function isShortRsaKey(key: CryptoKey): boolean {
  const { modulusLength } = key.algorithm as Partial<RsaHashedKeyAlgorithm>;
  return modulusLength !== undefined && modulusLength < 2048;
}
