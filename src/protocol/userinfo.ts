/**
 * The OpenID Connect userinfo request.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { CliAuthError } from "../common/errors.ts";
import { toCliAuthError } from "../common/error_mapping.ts";
import { retryOnDpopNonce } from "./dpop.ts";
import { requestOptions } from "../common/http.ts";
import type { ProtocolContext } from "./protocol_context.ts";

/**
 * The claims userinfo returns (`sub` always; `email`, `name`, … as granted).
 *
 * @example Usage
 * ```ts
 * import type { UserInfo } from "@x/cli-auth";
 * const who = (user: UserInfo) => user.email ?? user.sub;
 * ```
 */
export type UserInfo = oauth.UserInfoResponse;

/**
 * Fetches userinfo with an access token, always from the server (never cached).
 *
 * @param context the protocol context
 * @param accessToken the access token
 * @param options the expected `sub` (checked when given) and an optional signal
 * @returns the user's claims
 * @throws {CliAuthError} `invalid_token` (401), `unsupported_flow` (no userinfo endpoint), `network_error`, `timeout`, `server_error`, `invalid_response`
 *
 * @example Usage
 * ```ts
 * import { fetchUserInfo, type ProtocolContext } from "@x/cli-auth/protocol";
 * declare const context: ProtocolContext, accessToken: string;
 * const user = await fetchUserInfo(context, accessToken);
 * console.log(user.sub);
 * ```
 * @see https://openid.net/specs/openid-connect-core-1_0.html#UserInfo
 */
export async function fetchUserInfo(
  context: ProtocolContext,
  accessToken: string,
  options: { expectedSubject?: string; signal?: AbortSignal } = {},
): Promise<UserInfo> {
  const { as, client } = context;
  if (!as.userinfo_endpoint) {
    throw new CliAuthError("unsupported_flow", "The authorization server has no userinfo endpoint", {
      hint: "Set `identityEndpoint` to your API's identity route, or give `endpoints.userinfo`",
    });
  }
  try {
    return await retryOnDpopNonce(context.dpop, async () => {
      const response = await oauth.userInfoRequest(as, client, accessToken, {
        ...requestOptions(context.http, "userinfo", options.signal),
        DPoP: context.dpop,
      });
      return await oauth.processUserInfoResponse(as, client, options.expectedSubject ?? oauth.skipSubjectCheck, response);
    });
  } catch (error) {
    throw toCliAuthError(error, "userinfo");
  }
}
