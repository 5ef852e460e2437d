/**
 * What the verifier knew when it refused a request, kept beside the refusal for the challenges (RFC 9449 §7.2): the
 * scheme the request used and the schemes the API takes.
 *
 * @module
 */

import type { AuthorizationScheme } from "./_authorization_header.ts";

/**
 * What the verifier knew when it refused a request, for the challenges: the scheme the request used (when its
 * `Authorization` header could be read) and the schemes the API takes.
 */
export interface ChallengeContext {
  /** The scheme the request used; the challenge of that scheme carries the error (RFC 9449 §7.2). */
  used?: AuthorizationScheme;
  /** Whether the API takes Bearer tokens (not when it requires DPoP). */
  bearer: boolean;
  /** The algorithms the API takes for DPoP proofs, when it takes DPoP at all: the `algs` parameter. */
  dpopAlgorithms?: readonly string[];
}

const contexts = new WeakMap<Error, ChallengeContext>();

/**
 * Records what the verifier knew about a refusal (see {@link ChallengeContext}), for the challenges (challenge.ts).
 *
 * @param error the refusal
 * @param context the scheme used and the schemes offered
 */
export function setChallengeContext(error: Error, context: ChallengeContext): void {
  if (!contexts.has(error)) contexts.set(error, context);
}

/**
 * What the verifier knew about a refusal, if it came from a verifier.
 *
 * @param error the refusal
 * @returns the context, or `undefined`
 */
export function challengeContextOf(error: Error): ChallengeContext | undefined {
  return contexts.get(error);
}
