/**
 * The secrets a request carried, kept with its failed response, so that whatever the server quotes back is redacted
 * where it is copied into an error. Some servers repeat the request in `error_description` ("invalid refresh token
 * abc…"), and that text becomes the error's message: without this, a server's echo would carry a refresh token, a
 * code or a client secret into logs.
 *
 * Redaction works on the values as parsed — the JSON string after `\/` and `\uXXXX` escapes are resolved, the
 * challenge parameter after its quoted-pairs are — because searching the raw body is defeated by any escaping an
 * encoder chooses (PHP writes `/` as `\/`, HTML-safe encoders write `+` as `\u002B`).
 *
 * @module
 */

/** What stands where a secret was. */
export const REDACTED = "[redacted]";
/** What replaces a whole text that still quotes a secret under an escape that precise redaction does not undo. */
export const WITHHELD = "[withheld: it quoted a secret of the request]";

/**
 * Below this length a secret is redacted only where it stands as a word of its own. A long secret is random
 * enough to be redacted wherever it occurs. A short one (a 6-character code a user pasted, a short client secret)
 * must go too, but inside longer words it would mangle the text ("abc" in "abcdef"), and a short secret that is
 * part of a longer word does not give itself away: nobody can tell which letters were the secret.
 */
export const SHORT_SECRET_LENGTH = 8;

/** Request parameters whose values are secrets (RFC 6749, 7009, 7636, 8628, 7523). */
const SECRET_PARAMETERS = ["code", "code_verifier", "refresh_token", "client_secret", "token", "device_code", "client_assertion"];

const sent = new WeakMap<Response, readonly string[]>();

/**
 * The secret values a request carries: its secret form parameters, its Authorization credentials (and, for
 * Basic, the client secret inside them) and its DPoP proof.
 *
 * @param init the request's options
 * @returns the secrets, without duplicates or empty values
 */
export function requestSecrets(init: RequestInit | undefined): string[] {
  const secrets: string[] = [];
  const body = init?.body;
  const params = body instanceof URLSearchParams ? body : typeof body === "string" ? new URLSearchParams(body) : undefined;
  for (const name of SECRET_PARAMETERS) secrets.push(...(params?.getAll(name) ?? []));
  const headers = new Headers(init?.headers);
  const [scheme = "", credentials = ""] = (headers.get("authorization") ?? "").split(" ");
  if (credentials) secrets.push(credentials);
  if (/^basic$/i.test(scheme) && credentials) {
    try {
      const decoded = atob(credentials);
      const secret = decoded.slice(decoded.indexOf(":") + 1);
      secrets.push(secret, decodeURIComponent(secret));
    } catch {
      // Not base64: the credentials string itself is already listed.
    }
  }
  const proof = headers.get("dpop");
  if (proof) secrets.push(proof);
  return [...new Set(secrets)].filter((secret) => secret !== "");
}

/**
 * Keeps the secrets of the request that `response` answers, for {@link secretsSentFor}.
 *
 * @param response the response (a failed one: its text may end up in an error)
 * @param init the request's options
 */
export function rememberSecretsSent(response: Response, init: RequestInit | undefined): void {
  const secrets = requestSecrets(init);
  if (secrets.length > 0) sent.set(response, secrets);
}

/**
 * The secrets of the request that `response` answers, as remembered by {@link rememberSecretsSent}.
 *
 * @param response the response an error holds (oauth4webapi keeps it on its errors), or anything else
 * @returns the secrets; none when nothing was remembered for it
 */
export function secretsSentFor(response: unknown): readonly string[] {
  return response instanceof Response ? sent.get(response) ?? [] : [];
}

/** Every form a server may quote a value in: as sent, URL-encoded, form-encoded, inside a JSON string. */
function quotedForms(secret: string): string[] {
  const url = encodeURIComponent(secret);
  const json = JSON.stringify(secret).slice(1, -1);
  return [secret, url, url.replace(/%20/g, "+"), json, json.replaceAll("/", "\\/")];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Where `secret` occurs: anywhere when long, only where no letter or digit touches it when short. */
function occurrences(secret: string): RegExp {
  const pattern = escapeRegExp(secret);
  return secret.length >= SHORT_SECRET_LENGTH
    ? new RegExp(pattern, "g")
    : new RegExp(`(?<![\\p{L}\\p{N}])${pattern}(?![\\p{L}\\p{N}])`, "gu");
}

/** `text` with JSON `\uXXXX` escapes, percent-escapes of ASCII and backslash escapes resolved. */
function unescaped(text: string): string {
  return text
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/%([0-7][0-9a-fA-F])/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/\\(.)/gs, "$1");
}

/**
 * `text` with every secret replaced by `[redacted]`: each secret as sent, URL- and form-encoded and JSON-escaped;
 * a secret of {@link SHORT_SECRET_LENGTH} characters or more wherever it occurs, a shorter one where it stands as a
 * word (no letter or digit right before or after it). If the text still holds a secret once escapes in it are
 * resolved (a server that quoted an already escaped request), the whole text is withheld.
 *
 * @param text text a server sent, already parsed (a JSON string's value, a challenge parameter's value)
 * @param secrets the secrets of the request it answers
 * @returns the text without them
 *
 * @example Usage
 * ```ts
 * import { redactSecrets } from "./echoed_secrets.ts";
 * console.assert(redactSecrets("unknown code k9Q-x2", ["k9Q-x2"]) === "unknown code [redacted]");
 * ```
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  const forms = [...new Set(secrets.flatMap(quotedForms))].filter((form) => form !== "").sort((a, b) => b.length - a.length);
  const patterns = forms.map(occurrences);
  let out = text;
  for (const pattern of patterns) out = out.replace(pattern, REDACTED);
  const resolved = unescaped(out);
  return patterns.some((pattern) => resolved.search(pattern) >= 0) ? WITHHELD : out;
}
