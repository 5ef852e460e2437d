/**
 * `loginWithToken()`: a token the user already has (a personal access token, an API key) kept as the profile's
 * session, as `gh auth login --with-token` does. It is stored like any session (flow `"token"`, no refresh token,
 * no expiry), handed out by `getAccessToken()` without a request, never refreshed, and forgotten by `logout()`
 * without any revocation request: the library did not issue it.
 *
 * @module
 */

import { CliAuthError } from "../common/errors.ts";
import type { Config } from "../options.ts";
import type { Session } from "../session/session.ts";
import { newSession, type SessionStore } from "../session/session_store.ts";

/**
 * The token as given, checked: one trailing newline (as `read` from stdin leaves it) is dropped; what remains must be
 * non-blank, free of control characters, and visible ASCII only (0x21-0x7E: no space, no non-ASCII character, which
 * no HTTP header could carry). Messages never quote it.
 *
 * @param token the token as given
 * @returns the token to store
 * @throws {CliAuthError} `invalid_options`
 *
 * @example Usage
 * ```ts
 * import { checkGivenToken } from "@x/cli-auth/protocol";
 * console.assert(checkGivenToken("ghp_abc123\n") === "ghp_abc123");
 * ```
 */
export function checkGivenToken(token: unknown): string {
  if (typeof token !== "string") {
    throw new CliAuthError("invalid_options", "The token must be a string");
  }
  const value = token.replace(/\r?\n$/, "");
  if (value.trim() === "") {
    throw new CliAuthError("invalid_options", "The token is empty", { hint: "Pass the token itself, e.g. on stdin" });
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw new CliAuthError("invalid_options", "The token contains a control character (a line break or more than one line?)", {
      hint: "Pass exactly one token, on one line",
    });
  }
  // An HTTP header carries Latin-1 at most, and a token is one word: a space or a non-ASCII character (a pasted
  // "€", a non-breaking space) would be stored and fail every request later as a network error.
  if (/[^\x21-\x7e]/.test(value)) {
    throw new CliAuthError("invalid_options", "The token contains a space or a character that is not visible ASCII", {
      hint: "Pass the token exactly as issued, without spaces or other characters around it",
    });
  }
  return value;
}

/**
 * Stores `token` as the profile's session (see `CliAuth.loginWithToken`).
 *
 * @param config the instance's configuration (profile, issuer, client, clock)
 * @param sessions the profile's session store
 * @param token the token; one trailing newline is dropped
 * @returns the stored session
 * @throws {CliAuthError} `invalid_options` (empty, or with a space, a control or non-ASCII character), `storage_unavailable`
 */
export async function loginWithToken(config: Config, sessions: SessionStore, token: unknown): Promise<Session> {
  const accessToken = checkGivenToken(token);
  const session = newSession(config, {
    // What the stored session belongs to (a session of another issuer or client reads as none).
    issuer: config.issuer ?? "",
    clientId: config.clientId ?? "",
    tokens: { accessToken, tokenType: "Bearer" },
    flow: "token",
  });
  await sessions.write(session);
  return session;
}
