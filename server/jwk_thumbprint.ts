/**
 * JWK SHA-256 thumbprints (RFC 7638): what a DPoP-bound token's `cnf.jkt` names (RFC 9449 §6.1).
 *
 * @module
 */

import { toBase64Url, utf8 } from "./encoding.ts";

/**
 * The base64url SHA-256 thumbprint of a public JWK (RFC 7638 §3): the required members of its key type (EC `crv`,
 * `kty`, `x`, `y`; OKP `crv`, `kty`, `x`; RSA `e`, `kty`, `n`) in lexicographic order, as JSON without whitespace,
 * hashed. Other members (`kid`, `alg`, `use`) do not count, so a key has one thumbprint however it is labelled.
 *
 * @param jwk a public JWK of type EC, OKP or RSA
 * @returns the thumbprint, 43 base64url characters
 * @throws {TypeError} for another key type or a required member that is missing or not a string
 *
 * @example The `cnf.jkt` a DPoP key's tokens carry
 * ```ts
 * import { jwkThumbprint } from "@x/cli-auth/server";
 * const { publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
 * const jkt = await jwkThumbprint(await crypto.subtle.exportKey("jwk", publicKey));
 * console.assert(jkt.length === 43);
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-6.1
 */
export async function jwkThumbprint(jwk: JsonWebKey): Promise<string> {
  let members: Record<string, unknown>;
  switch (jwk?.kty) {
    case "EC":
      members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
      break;
    case "OKP":
      members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
      break;
    case "RSA":
      members = { e: jwk.e, kty: jwk.kty, n: jwk.n };
      break;
    default:
      throw new TypeError("Cannot compute the thumbprint of this JWK: its kty is not EC, OKP or RSA");
  }
  for (const [name, value] of Object.entries(members)) {
    if (typeof value !== "string" || value === "") {
      throw new TypeError(`Cannot compute the thumbprint of this JWK: its "${name}" member is missing`);
    }
  }
  // Insertion order is the lexicographic order RFC 7638 §3.3 asks for; the values are base64url or curve names, so
  // JSON.stringify escapes nothing.
  const digest = await crypto.subtle.digest("SHA-256", utf8(JSON.stringify(members)));
  return toBase64Url(new Uint8Array(digest));
}
