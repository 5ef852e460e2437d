/**
 * `resolveToken()`: the token to call your API with, by precedence — a `--token` argument, the `tokenEnvVar`
 * variable, then the stored login (refreshed if needed).
 *
 * @module
 */

import { CliAuthError, isCliAuthError } from "../common/errors.ts";
import type { Config } from "../options.ts";
import type { Refresher } from "../session/refresher.ts";

/**
 * What `resolveToken()` returns: the token and where it came from.
 *
 * @example Usage
 * ```ts
 * import type { ResolvedToken } from "@x/cli-auth";
 * const describe = (t: ResolvedToken) => `using a token from ${t.source}`;
 * ```
 */
export interface ResolvedToken {
  /** The token to send: the argument or environment variable (trimmed), or a valid access token of the login. */
  token: string;
  /** `"arg"` (`--token`), `"env"` (`tokenEnvVar`), `"oauth"` (the stored login) or `"stored"` (`loginWithToken()`). */
  source: "arg" | "env" | "oauth" | "stored";
}

/**
 * The token to call your API with (see `CliAuth.resolveToken`).
 *
 * @param config the instance's configuration (variable, platform, login hint)
 * @param refresher the stored login's valid session
 * @param options the `--token` value
 * @returns the token and its source
 * @throws {CliAuthError} `not_logged_in` naming all three ways, `session_expired`, `network_error`
 */
export async function resolveToken(
  config: Config,
  refresher: () => Promise<Refresher>,
  options: { tokenFromArg?: string | null } = {},
): Promise<ResolvedToken> {
  const fromArg = options.tokenFromArg?.trim();
  if (fromArg) return { token: fromArg, source: "arg" };
  const variable = config.tokenEnvVar;
  if (variable) {
    const fromEnv = (await config.platform()).terminal.env(variable)?.trim();
    if (fromEnv) return { token: fromEnv, source: "env" };
  }
  try {
    const session = await (await refresher()).validSession();
    return { token: session.tokens.accessToken, source: session.flow === "token" ? "stored" : "oauth" };
  } catch (error) {
    if (!isCliAuthError(error, "not_logged_in")) throw error;
    const ways = [
      "pass `--token <token>`",
      variable ? `set ${variable}` : undefined,
      config.loginHint.replace(/^Run/, "run"),
    ].filter(Boolean);
    throw new CliAuthError("not_logged_in", "No token: not logged in and none was given", {
      hint: `${ways.slice(0, -1).join(", ")} or ${ways.at(-1)}`,
    });
  }
}
