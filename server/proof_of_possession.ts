/**
 * Sender-constrained tokens: the step after a token is verified that checks it was presented by whoever holds the
 * key it is bound to. Today the verifier verifies no proof of possession, so it refuses what needs one: the `DPoP`
 * scheme, and any token bound to a key by a `cnf` claim (RFC 7800), whatever the scheme. DPoP (RFC 9449) proofs
 * will be checked here: this is the one place that sees the request, the scheme, the token and its claims together.
 *
 * @module
 */

import { invalidToken } from "./challenge.ts";
import type { PresentedCredentials } from "./bearer.ts";
import type { VerifiedToken } from "./verified_token.ts";

/** Everything a proof-of-possession check may look at. */
export interface PossessionContext {
  /** How the token was presented; absent when the token came without a request (`verifyToken`). */
  credentials?: PresentedCredentials;
  /** The request, for the `htm` / `htu` of a DPoP proof; absent for `verifyToken`. */
  request?: Request;
  /** The verified token. */
  token: VerifiedToken;
}

/**
 * Refuses a token whose presentation needs a proof of possession this server does not check.
 *
 * @param context the request, scheme and verified token
 * @throws {CliAuthError} `invalid_token`: the `DPoP` scheme (answered like an unsupported scheme, RFC 9449 §7.1),
 *   or a token carrying `cnf`, which must not be accepted as a plain bearer token (RFC 9449 §7.2)
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 */
export function checkProofOfPossession(context: PossessionContext): Promise<void> {
  if (context.credentials?.scheme === "DPoP") {
    return Promise.reject(
      invalidToken("This API does not accept DPoP-bound tokens; send a Bearer token", { missing: true }),
    );
  }
  const cnf = context.token.claims.cnf;
  if (cnf !== undefined && cnf !== null) {
    return Promise.reject(
      invalidToken("The access token is bound to a key (cnf) and cannot be used as a bearer token"),
    );
  }
  return Promise.resolve();
}
