/**
 * `auth.fetch`: call the user's API as the signed-in user. The token goes only to the configured API origins; the
 * request is made by oauth4webapi's `protectedResourceRequest` (Bearer, or DPoP with a proof carrying `ath`); one
 * refresh and one retry on `401 invalid_token`, a typed error on `403 insufficient_scope`, and on `401
 * insufficient_user_authentication` (RFC 9470 step-up) a typed error at once: no refresh, no retry.
 *
 * @module
 */

import * as oauth from "oauth4webapi";
import { retryOnDpopNonce } from "../protocol/dpop.ts";
import { CliAuthError } from "../common/errors.ts";
import { secretsSentFor } from "../common/echoed_secrets.ts";
import { serverText, toCliAuthError } from "../common/error_mapping.ts";
import { DEFAULT_TIMEOUT_MS, type FetchLike, guardedFetch, type HttpOptions } from "../common/http.ts";
import type { DPoPHandle } from "../protocol/oauth_types.ts";

/** A request made replayable: method, URL, headers and a body that can be sent twice (or `null`). */
interface PreparedRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: ArrayBuffer | string | URLSearchParams | ReadableStream<Uint8Array> | null;
  replayable: boolean;
  signal?: AbortSignal;
}

/**
 * What `auth.fetch` needs from the session.
 *
 * @example Usage
 * ```ts
 * import type { AuthenticatedFetchSession } from "@x/cli-auth";
 * declare const session: AuthenticatedFetchSession;
 * const token = await session.token();
 * ```
 */
export interface AuthenticatedFetchSession {
  /** A valid access token (refreshed if needed). */
  token(): Promise<string>;
  /** A new token after the API refused `rejected` (single-flight with every other refresh). */
  refreshed(rejected: string): Promise<string>;
  /** The DPoP handle of a sender-constrained session. */
  dpop(): Promise<DPoPHandle | undefined>;
}

/**
 * Options of {@link authenticatedFetch}.
 *
 * @example Usage
 * ```ts
 * import type { AuthenticatedFetchOptions } from "@x/cli-auth";
 * const options: Partial<AuthenticatedFetchOptions> = { apiOrigins: ["https://api.example.com"] };
 * ```
 */
export interface AuthenticatedFetchOptions {
  /** Origins the token may be sent to. */
  apiOrigins: readonly string[];
  /** Transport options (`fetch`, `timeoutMs` until the response headers, `allowInsecureRequests`). */
  http: HttpOptions;
  /** How hints tell the user to log in. */
  loginHint: string;
}

const MAX_REDIRECTS = 5;

function origins(list: readonly string[]): Set<string> {
  const set = new Set<string>();
  for (const value of list) {
    try {
      set.add(new URL(value).origin);
    } catch {
      throw new CliAuthError("invalid_options", `The API origin "${value}" is not a URL`, {
        hint: 'Give `apiOrigins` as absolute URLs such as "https://api.example.com"',
      });
    }
  }
  return set;
}

async function prepare(input: string | URL | Request, init: RequestInit | undefined): Promise<PreparedRequest> {
  let url: URL;
  let method = init?.method ?? "GET";
  const headers = new Headers();
  let body: PreparedRequest["body"] = null;
  let replayable = true;
  if (input instanceof Request) {
    url = new URL(input.url);
    method = init?.method ?? input.method;
    input.headers.forEach((value, key) => headers.set(key, value));
    if (init?.body === undefined && input.body) body = await input.arrayBuffer();
  } else {
    try {
      url = new URL(input);
    } catch {
      throw new CliAuthError("invalid_options", "auth.fetch needs an absolute URL");
    }
  }
  new Headers(init?.headers).forEach((value, key) => headers.set(key, value));
  const given = init?.body;
  if (given !== undefined && given !== null) {
    if (typeof given === "string" || given instanceof URLSearchParams || given instanceof ArrayBuffer) {
      body = given;
    } else if (ArrayBuffer.isView(given)) {
      body = new Uint8Array(given.buffer, given.byteOffset, given.byteLength).slice().buffer;
    } else if (given instanceof ReadableStream) {
      body = given as ReadableStream<Uint8Array>;
      replayable = false;
    } else {
      // Blob, FormData: let the Fetch API serialise it once (with its content type), then keep the bytes.
      const serialized = new Response(given as BodyInit);
      const type = serialized.headers.get("content-type");
      if (type && !headers.has("content-type")) headers.set("content-type", type);
      body = await serialized.arrayBuffer();
    }
  }
  headers.delete("authorization");
  headers.delete("dpop");
  return { url, method: method.toUpperCase(), headers, body, replayable, signal: init?.signal ?? undefined };
}

/** What `send` read from a response's `WWW-Authenticate` (any scheme: `Bearer` or `DPoP`). */
interface Challenge {
  error?: string;
  scope?: string;
  /** `acr_values` of a step-up challenge, split on spaces. */
  acrValues?: string[];
  /** `max_age` of a step-up challenge, when a whole number of seconds. */
  maxAge?: number;
}

const STEP_UP = "insufficient_user_authentication";

/**
 * The challenge that says what went wrong: a step-up challenge (RFC 9470) wherever it stands, else the first with an
 * `error`. Its values go into an error and its hint: shown without terminal controls or the request's token.
 */
function challengeOf(error: oauth.WWWAuthenticateChallengeError): Challenge {
  const secrets = secretsSentFor(error.response);
  const stepUp = error.cause.find((challenge) => challenge.parameters.error === STEP_UP);
  if (stepUp) {
    const acrValues = serverText(stepUp.parameters.acr_values, secrets)?.split(" ").filter(Boolean);
    const maxAge = stepUp.parameters.max_age;
    return {
      error: STEP_UP,
      acrValues: acrValues?.length ? acrValues : undefined,
      // RFC 9470 §3: max_age is a non-negative whole number of seconds; anything else is left out, never guessed.
      maxAge: maxAge !== undefined && /^\d{1,15}$/.test(maxAge) ? Number(maxAge) : undefined,
    };
  }
  for (const challenge of error.cause) {
    const code = challenge.parameters.error;
    if (code) return { error: code, scope: serverText(challenge.parameters.scope, secrets) };
  }
  return {};
}

/** The `step_up_required` error for a step-up challenge, its hint built from the login command. */
function stepUpRequired(challenge: Challenge, loginHint: string): CliAuthError {
  const { acrValues, maxAge } = challenge;
  const wanted = [
    acrValues?.length ? `an authentication of ${acrValues.join(" or ")}` : undefined,
    maxAge === undefined ? undefined : maxAge === 0 ? "a sign-in now" : `a sign-in within the last ${maxAge} s`,
  ].filter(Boolean).join(" and ");
  return new CliAuthError(
    "step_up_required",
    `The API needs a stronger or more recent sign-in than this session's${wanted ? ` (${wanted})` : ""}`,
    {
      status: 401,
      error: STEP_UP,
      acrValues,
      maxAge,
      hint: `${loginHint} again to sign in with a stronger or more recent authentication${
        acrValues?.length ? ` (${acrValues.join(" or ")})` : ""
      }, then repeat the command`,
    },
  );
}

/**
 * A `fetch` with the session's token: Bearer, or DPoP with a proof per request.
 *
 * @param session the session's token, refresh and DPoP handle
 * @param options API origins, transport, login hint
 * @param input the URL or Request
 * @param init the request options
 * @returns the API's response (a second `401` is returned, never looped)
 * @throws {CliAuthError} `invalid_options` (an origin the token may not go to; nothing is sent), `insufficient_scope` (with `scopes`), `step_up_required` (with `acrValues` and `maxAge`; nothing refreshed or retried), `not_logged_in`, `session_expired`, `network_error`, `timeout`
 *
 * @example Usage
 * ```ts
 * import { CliAuth } from "@x/cli-auth";
 * const auth = new CliAuth({
 *   issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli", resource: "https://api.example.com/",
 * });
 * const response = await auth.fetch("https://api.example.com/projects");
 * console.log(await response.json());
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 */
export async function authenticatedFetch(
  session: AuthenticatedFetchSession,
  options: AuthenticatedFetchOptions,
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  const allowed = origins(options.apiOrigins);
  if (allowed.size === 0) {
    throw new CliAuthError("invalid_options", "auth.fetch has no API origin to send the token to", {
      hint: "Set `apiOrigins` (or `resource`, or `identityEndpoint`)",
    });
  }
  let request = await prepare(input, init);
  const check = (url: URL) => {
    if (!allowed.has(url.origin)) {
      throw new CliAuthError("invalid_options", `auth.fetch refuses to send the token to ${url.origin}`, {
        hint: `Only ${[...allowed].join(", ")} may receive it; add the origin to \`apiOrigins\` if it is yours`,
      });
    }
  };
  check(request.url);

  const dpop = await session.dpop();
  let token = await session.token();
  let refreshed = false;
  for (let redirects = 0;; redirects++) {
    let { response, challenge } = await send(request, token, dpop, options.http);
    if (response.status === 401 && !refreshed && request.replayable && challenge.error === "invalid_token") {
      await response.body?.cancel();
      refreshed = true;
      token = await session.refreshed(token);
      ({ response, challenge } = await send(request, token, dpop, options.http));
    }
    // A refreshed token carries the same sign-in: a step-up challenge is never refreshed or retried (it is not
    // `invalid_token`, so the branch above left it alone).
    if (response.status === 401 && challenge.error === STEP_UP) {
      await response.body?.cancel();
      throw stepUpRequired(challenge, options.loginHint);
    }
    if (response.status === 403 && challenge.error === "insufficient_scope") {
      await response.body?.cancel();
      const scopes = challenge.scope?.split(" ").filter(Boolean);
      throw new CliAuthError("insufficient_scope", "The API needs more permissions than this login granted", {
        status: 403,
        error: "insufficient_scope",
        scopes,
        hint: scopes?.length
          ? `${options.loginHint} again, asking for the scopes: ${scopes.join(" ")}`
          : `${options.loginHint} again with the scopes this command needs`,
      });
    }
    const location = response.headers.get("location");
    if (![301, 302, 303, 307, 308].includes(response.status) || !location || redirects >= MAX_REDIRECTS || !request.replayable) {
      return response;
    }
    const next = new URL(location, request.url);
    // A redirect elsewhere is handed back as it is: the token never follows it.
    if (!allowed.has(next.origin)) return response;
    await response.body?.cancel();
    const toGet = response.status === 303 || ((response.status === 301 || response.status === 302) && request.method === "POST");
    request = toGet ? { ...request, url: next, method: "GET", body: null } : { ...request, url: next };
    if (toGet) request.headers.delete("content-type");
  }
}

async function send(
  request: PreparedRequest,
  token: string,
  dpop: oauth.DPoPHandle | undefined,
  http: HttpOptions,
): Promise<{ response: Response; challenge: Challenge }> {
  // The timeout covers the wait for the response headers; a large body may take as long as it takes.
  const timeoutMs = http.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fetchImpl: FetchLike = guardedFetch({ ...http, maxResponseBytes: Number.POSITIVE_INFINITY }, "resource");
  const customFetch = async (url: string, init: oauth.CustomFetchOptions<string, unknown>) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException("The API did not answer in time", "TimeoutError")), timeoutMs);
    const signals = [controller.signal, ...(request.signal ? [request.signal] : [])];
    try {
      return await fetchImpl(url, { ...(init as RequestInit), signal: AbortSignal.any(signals) });
    } finally {
      clearTimeout(timer);
    }
  };
  const options: oauth.ProtectedResourceRequestOptions = { DPoP: dpop, [oauth.customFetch]: customFetch };
  if (http.allowInsecureRequests) options[oauth.allowInsecureRequests] = true;
  try {
    const response = await retryOnDpopNonce(dpop, () =>
      oauth.protectedResourceRequest(token, request.method, request.url, new Headers(request.headers), request.body, options)
    );
    return { response, challenge: {} };
  } catch (error) {
    // A challenge is an answer, not a failure: the caller gets the response (its body unread); oauth4webapi has
    // parsed the WWW-Authenticate header for us.
    if (error instanceof oauth.WWWAuthenticateChallengeError) return { response: error.response, challenge: challengeOf(error) };
    throw toCliAuthError(error, "resource");
  }
}
