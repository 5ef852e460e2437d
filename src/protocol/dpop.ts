/**
 * DPoP (RFC 9449) key pairs for sender-constrained sessions: made with Web Crypto at login, kept (as JWK) only
 * inside the stored session, and turned back into oauth4webapi's DPoP handle in later processes. Proofs, `ath`
 * and server nonces are oauth4webapi's work.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import type { CryptoKeyPair, DPoPHandle } from "./oauth_types.ts";

/**
 * A DPoP key pair as stored with the session.
 *
 * @example Usage
 * ```ts
 * import type { StoredDpopKey } from "@x/cli-auth";
 * const hasPrivate = (key: StoredDpopKey) => key.privateJwk.d !== undefined;
 * ```
 */
export interface StoredDpopKey {
  /** The ES256 private key as a JWK (holds `d`): secret, kept only inside the stored session. */
  privateJwk: JsonWebKey;
  /** The ES256 public key as a JWK, the one DPoP proofs carry in their header. */
  publicJwk: JsonWebKey;
}

const ES256 = { name: "ECDSA", namedCurve: "P-256" } as const;

/**
 * Makes a new ES256 key pair and its storable JWK form.
 *
 * @returns the live key pair and the JWKs to store
 *
 * @example Usage
 * ```ts
 * import { generateDpopKey } from "@x/cli-auth/protocol";
 * const { keyPair, stored } = await generateDpopKey();
 * ```
 */
export async function generateDpopKey(): Promise<{ keyPair: CryptoKeyPair; stored: StoredDpopKey }> {
  const keyPair = await oauth.generateKeyPair("ES256", { extractable: true });
  const [privateJwk, publicJwk] = await Promise.all([
    crypto.subtle.exportKey("jwk", keyPair.privateKey),
    crypto.subtle.exportKey("jwk", keyPair.publicKey),
  ]);
  // The live private key need not stay extractable: re-import it as sign-only.
  return { keyPair: await importDpopKey({ privateJwk, publicJwk }), stored: { privateJwk, publicJwk } };
}

/**
 * Turns a stored key back into a key pair (private key not extractable).
 *
 * @param stored the JWKs from the session
 * @returns the key pair
 *
 * @example Usage
 * ```ts
 * import { importDpopKey, type StoredDpopKey } from "@x/cli-auth/protocol";
 * declare const stored: StoredDpopKey;
 * const keyPair = await importDpopKey(stored);
 * ```
 */
export async function importDpopKey(stored: StoredDpopKey): Promise<CryptoKeyPair> {
  const [privateKey, publicKey] = await Promise.all([
    crypto.subtle.importKey("jwk", stored.privateJwk, ES256, false, ["sign"]),
    crypto.subtle.importKey("jwk", stored.publicJwk, ES256, true, ["verify"]),
  ]);
  return { privateKey, publicKey } as oauth.CryptoKeyPair;
}

/**
 * oauth4webapi's DPoP handle for a key pair: it signs the proofs and remembers server nonces per origin.
 *
 * @param keyPair the session's key pair
 * @returns the handle to pass as `dpop` in a protocol context
 *
 * @example Usage
 * ```ts
 * import { dpopHandle, generateDpopKey } from "@x/cli-auth/protocol";
 * const handle = dpopHandle((await generateDpopKey()).keyPair);
 * ```
 */
export function dpopHandle(keyPair: CryptoKeyPair): DPoPHandle {
  return oauth.DPoP({}, keyPair);
}

/**
 * Runs a DPoP-protected request; when the server demands a nonce (`use_dpop_nonce`), oauth4webapi has remembered
 * it from the response, and the request is made once more.
 *
 * @param dpop the DPoP handle, if the session is sender-constrained
 * @param attempt the request and its processing
 * @returns what the attempt returned
 *
 * @example Usage
 * ```ts
 * import { retryOnDpopNonce } from "./dpop.ts";
 * const value = await retryOnDpopNonce(undefined, () => Promise.resolve(1));
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 */
export async function retryOnDpopNonce<T>(dpop: DPoPHandle | undefined, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (dpop && oauth.isDPoPNonceError(error)) return await attempt();
    throw error;
  }
}
