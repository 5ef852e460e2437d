/**
 * Step-up at login (RFC 9470 §4, OpenID Connect Core §3.1.2.1): what a login asks of the user's sign-in — an
 * authentication context class (`acr_values`), a recent sign-in (`max_age`) — and the check of what the ID token
 * says came of it. A server may ignore `acr_values` (OIDC makes it a voluntary claim request) or reuse an old
 * session; where its ID token says so (another `acr`, an old `auth_time`), the login must not look like a successful
 * step-up, so it fails and nothing is stored. An ID token without `acr` is not refused: OIDC Core §2 makes the claim
 * optional unless asked for as essential through the `claims` parameter, which this library does not send; the API
 * then judges the new token, and challenges again if it still falls short.
 *
 * oauth4webapi requires and type-checks `auth_time` when told to (`require_auth_time`, see
 * {@link clientRequiringAuthTime}); the comparisons are made here because oauth4webapi has no `acr` check, its
 * `maxAge` check runs only on code responses, demands an ID token, and measures from the moment the token response
 * arrives, whereas the sign-in was asked for when the login started (a user may take minutes to approve a device).
 *
 * @module
 */

import { CliAuthError } from "../common/errors.ts";
import { printable } from "../common/printable.ts";
import type { Client, IDToken } from "./oauth_types.ts";

/**
 * What a login asks of the user's sign-in.
 *
 * @example Usage
 * ```ts
 * import type { RequestedAuthentication } from "@x/cli-auth";
 * const stepUp: RequestedAuthentication = { acrValues: ["urn:example:mfa"], maxAge: 0 };
 * ```
 */
export interface RequestedAuthentication {
  /**
   * Authentication context class references (`acr`), in order of preference, sent as `acr_values`. The ID token's
   * `acr`, when it names one, must be one of them.
   */
  acrValues?: readonly string[];
  /**
   * The most seconds since the user's last active sign-in, sent as `max_age` (`0`: sign in now). The ID token must
   * then carry `auth_time`, no earlier than this many seconds before the login started.
   */
  maxAge?: number;
}

/** The clock difference allowed between this machine and the authorization server, in seconds (oauth4webapi's). */
const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Checks `acrValues` and `maxAge` of a login before anything is sent.
 *
 * @param options the login's options
 * @returns the requested authentication, only with what was given
 * @throws {CliAuthError} `invalid_options` for an empty list, an empty value or one with whitespace (the values are
 *   sent space-separated), or a `maxAge` that is not a whole number of seconds, 0 or more
 *
 * @example Usage
 * ```ts
 * import { checkRequestedAuthentication } from "@x/cli-auth/protocol";
 * const requested = checkRequestedAuthentication({ acrValues: ["urn:example:mfa"], maxAge: 300 });
 * ```
 */
export function checkRequestedAuthentication(options: { acrValues?: unknown; maxAge?: unknown }): RequestedAuthentication {
  const requested: RequestedAuthentication = {};
  const { acrValues, maxAge } = options;
  if (acrValues !== undefined) {
    if (
      !Array.isArray(acrValues) || acrValues.length === 0 ||
      acrValues.some((value) => typeof value !== "string" || value === "" || /\s/.test(value))
    ) {
      throw new CliAuthError("invalid_options", "`acrValues` must list one or more acr values, none empty or with spaces", {
        hint: 'Pass the values the API asked for, e.g. `acrValues: ["urn:example:mfa"]` (a step_up_required error has them)',
      });
    }
    requested.acrValues = [...acrValues];
  }
  if (maxAge !== undefined) {
    if (typeof maxAge !== "number" || !Number.isSafeInteger(maxAge) || maxAge < 0) {
      throw new CliAuthError("invalid_options", "`maxAge` must be a whole number of seconds, 0 or more", {
        hint: "Pass the `maxAge` of the step_up_required error, or 0 for a sign-in now",
      });
    }
    requested.maxAge = maxAge;
  }
  return requested;
}

/**
 * The request parameters for it: `acr_values` (space-separated) and `max_age`.
 *
 * @param requested what the login asks for
 * @returns the parameters, none when nothing is asked
 *
 * @example Usage
 * ```ts
 * import { requestedAuthenticationParameters } from "@x/cli-auth/protocol";
 * const params = requestedAuthenticationParameters({ acrValues: ["urn:example:mfa"], maxAge: 0 });
 * // { acr_values: "urn:example:mfa", max_age: "0" }
 * ```
 */
export function requestedAuthenticationParameters(requested: RequestedAuthentication = {}): Record<string, string> {
  const params: Record<string, string> = {};
  if (requested.acrValues?.length) params.acr_values = requested.acrValues.join(" ");
  if (requested.maxAge !== undefined) params.max_age = String(requested.maxAge);
  return params;
}

/**
 * The client as oauth4webapi should see it for the token response: with `require_auth_time` when `maxAge` was
 * asked, so that an ID token without a numeric `auth_time` is refused (OIDC Core §3.1.2.1: it MUST be there).
 *
 * @param client the context's client
 * @param requested what the login asked for
 * @returns the client, or a copy requiring `auth_time`
 */
export function clientRequiringAuthTime(client: Client, requested: RequestedAuthentication = {}): Client {
  return requested.maxAge === undefined ? client : { ...client, require_auth_time: true };
}

/**
 * Checks the ID token's `acr` and `auth_time` against what the login asked for. Without an ID token there is
 * nothing to check (an OAuth-only server): the API judges the access token itself, and says so again if it falls
 * short.
 *
 * @param claims the validated ID token claims, if an ID token came
 * @param requested what the login asked for
 * @param requestedAt when the login asked for it, epoch ms
 * @throws {CliAuthError} `access_denied` when the server did not perform the requested authentication: an `acr` that
 *   is none of `acrValues`, or an `auth_time` more than `maxAge` seconds before the login started
 *
 * @example Usage
 * ```ts
 * import { checkAuthenticationPerformed } from "@x/cli-auth/protocol";
 * const claims = { iss: "https://auth.example.com", sub: "u1", aud: "my-cli", iat: 0, exp: 0, acr: "urn:example:mfa" };
 * checkAuthenticationPerformed(claims, { acrValues: ["urn:example:mfa"] }, Date.now());
 * ```
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 */
export function checkAuthenticationPerformed(
  claims: IDToken | undefined,
  requested: RequestedAuthentication,
  requestedAt: number,
): void {
  if (!claims) return;
  const { acrValues, maxAge } = requested;
  if (acrValues?.length && claims.acr !== undefined && !acrValues.includes(claims.acr as string)) {
    const got = typeof claims.acr === "string" ? `"${printable(claims.acr)}"` : "an invalid acr";
    throw notPerformed(`it signed you in with ${got}, not ${acrValues.join(" or ")}`);
  }
  if (maxAge !== undefined && typeof claims.auth_time === "number") {
    if (claims.auth_time < requestedAt / 1000 - maxAge - CLOCK_TOLERANCE_SECONDS) {
      const ago = Math.max(0, Math.round(requestedAt / 1000 - claims.auth_time));
      throw notPerformed(`your last sign-in there was ${ago} s before this login, more than the ${maxAge} s asked for`);
    }
  }
}

function notPerformed(detail: string): CliAuthError {
  return new CliAuthError("access_denied", `The server did not perform the requested authentication: ${detail}`, {
    hint: "Nothing was stored. Sign in again and complete the stronger sign-in the server offers (for example MFA); " +
      "if it never does, the authorization server does not support what the API asks for: tell its administrator",
  });
}
