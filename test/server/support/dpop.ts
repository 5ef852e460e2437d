// DPoP proofs (RFC 9449) made by hand with Web Crypto, so that tests can make every kind of wrong proof: another
// method, URL, token, time, key, type or algorithm. Valid proofs in tests also come from oauth4webapi's DPoP handle.
import { encodeJson } from "./key_server.ts";

const b64u = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** An ES256 key pair whose public key can be exported (as oauth4webapi's DPoP handle requires). */
export async function dpopKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
}

/** The public JWK members of a key pair (what a proof's `jwk` header carries). */
export async function publicJwk(keyPair: CryptoKeyPair): Promise<JsonWebKey> {
  const { kty, crv, x, y, n, e } = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  return JSON.parse(JSON.stringify({ kty, crv, x, y, n, e }));
}

/** base64url(SHA-256(token)): the `ath` of a proof for `token`. */
export async function ath(token: string): Promise<string> {
  return b64u(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
}

export interface ProofClaims {
  htm?: string;
  htu?: string;
  /** The access token: `ath` is computed from it unless `claims.ath` is given. */
  token?: string;
  iat?: number;
  jti?: string;
  nonce?: string;
  [claim: string]: unknown;
}

/** Whoever signs a proof: an algorithm, its Web Crypto parameters, the private key and the public JWK. */
export interface ProofSigner {
  alg: string;
  sign: Algorithm;
  privateKey: CryptoKey;
  jwk: JsonWebKey;
}

/**
 * A DPoP proof signed with `keyPair` (ES256) or another signer: `typ` `dpop+jwt`, the public `jwk`, a fresh `jti`,
 * `iat` now. Claims set to `undefined` are left out; `header` overrides header parameters (also to `undefined`).
 */
export async function makeProof(
  key: CryptoKeyPair | ProofSigner,
  claims: ProofClaims,
  header: Record<string, unknown> = {},
): Promise<string> {
  const signer: ProofSigner = "alg" in key
    ? key
    : { alg: "ES256", sign: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams, privateKey: key.privateKey, jwk: await publicJwk(key) };
  const { token, ...rest } = claims;
  const payload = {
    jti: crypto.randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    htm: "GET",
    ...(token === undefined ? {} : { ath: await ath(token) }),
    ...rest,
  };
  const protectedHeader = { typ: "dpop+jwt", alg: signer.alg, jwk: signer.jwk, ...header };
  const signingInput = `${encodeJson(protectedHeader)}.${encodeJson(payload)}`;
  const signature = await crypto.subtle.sign(signer.sign, signer.privateKey, new TextEncoder().encode(signingInput));
  return `${signingInput}.${b64u(new Uint8Array(signature))}`;
}

/** A request to `url` carrying `Authorization: DPoP <token>` and, when given, the `DPoP` proof header. */
export function dpopRequest(url: string, token: string, proof?: string, init: RequestInit = {}): Request {
  const headers = new Headers(init.headers);
  headers.set("authorization", `DPoP ${token}`);
  if (proof !== undefined) headers.set("dpop", proof);
  return new Request(url, { ...init, headers });
}
