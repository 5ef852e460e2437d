/**
 * PKCE (RFC 7636, S256) and the `state` value of one authorization request, made with oauth4webapi's helpers.
 *
 * @module
 */

import * as oauth from "oauth4webapi";

/**
 * The secrets of one authorization request: keep `codeVerifier` and `state` in memory only.
 *
 * @example Usage
 * ```ts
 * import { createPkce, type Pkce } from "@x/cli-auth/protocol";
 * const pkce: Pkce = await createPkce();
 * console.log(pkce.codeChallengeMethod); // "S256"
 * ```
 */
export interface Pkce {
  /** The high-entropy verifier sent with the code exchange. */
  readonly codeVerifier: string;
  /** `BASE64URL(SHA-256(codeVerifier))`, sent on the authorization request. */
  readonly codeChallenge: string;
  /** Always `"S256"`. */
  readonly codeChallengeMethod: "S256";
  /** The random `state` the callback must echo exactly. */
  readonly state: string;
}

/**
 * Makes a fresh code verifier, its S256 challenge and a random `state`.
 *
 * @returns the PKCE pair and state
 *
 * @example Usage
 * ```ts
 * import { createPkce } from "@x/cli-auth/protocol";
 * const { codeChallenge, state } = await createPkce();
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4
 */
export async function createPkce(): Promise<Pkce> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  return {
    codeVerifier,
    codeChallenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    codeChallengeMethod: "S256",
    state: oauth.generateRandomState(),
  };
}
