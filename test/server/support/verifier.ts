// The one way the server tests make a verifier: each file binds it once to its issuer (known only once its provider
// or key server runs) and its own defaults, then each test adds what it needs.
import { createVerifier, type Verifier, type VerifierOptions } from "../../../server/mod.ts";

/** `verifier(overrides)`: a new verifier with the file's defaults, read at call time, and the test's overrides. */
export function verifierFor(defaults: () => VerifierOptions): (overrides?: Partial<VerifierOptions>) => Verifier {
  return (overrides = {}) => createVerifier({ ...defaults(), ...overrides });
}
