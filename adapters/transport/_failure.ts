/**
 * What a failed request of the transport becomes: the failures a person can act on, recognised by what each runtime
 * says (Node's and Bun's OpenSSL codes, Deno's rustls messages, each one's words for a refused tunnel), and every
 * other failure passed on with the proxy's credentials cut out of its messages.
 *
 * @module
 */

import { isCliAuthError, sanitizedCause } from "../../src/common/errors.ts";
import { proxyRefusedError, untrustedCertificateError } from "../../src/transport/transport_errors.ts";

/** What the transport knew about the request that failed. */
export interface FailureContext {
  url: URL;
  proxy?: URL;
  /** The variable naming extra CAs on this runtime (`NODE_EXTRA_CA_CERTS`, `DENO_CERT`), for the hint. */
  caVariable: string;
  signal?: AbortSignal;
}

/** OpenSSL's verification codes (Node, Bun) that mean "no trusted CA signed this". */
const UNTRUSTED_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
]);
/** rustls (Deno): the same. */
const UNTRUSTED_MESSAGE = /invalid peer certificate: (?:UnknownIssuer|.*CaUsedAsEndEntity)[^,;]*/;
/** A refused tunnel: undici (Node) "Proxy response (407) !== 200", Bun "Proxy refused to open a tunnel: 407 …". */
const REFUSED_TUNNEL = /Proxy response \((\d{3})\)|refused to open a tunnel: (\d{3})/i;
/** Deno (hyper-util) says 407 in words and nothing about other statuses. */
const DENO_PROXY_AUTH = /proxy authentication required/i;
/** Deno's refused tunnel without a status (its transport asks the proxy again to learn it). */
export const DENO_REFUSED_TUNNEL: RegExp = /unsuccessful tunnel/i;

/**
 * The error to throw for a failed request: `network_error` with a hint for an untrusted certificate or a refused
 * tunnel; an abort, a timeout and any `CliAuthError` unchanged; anything else as it was, its proxy credentials
 * removed.
 *
 * @param error what the runtime's fetch threw
 * @param context the request's URL and proxy, the runtime's CA variable, the request's signal
 * @returns the error to throw
 */
export function transportFailure(error: unknown, context: FailureContext): unknown {
  if (isCliAuthError(error) || context.signal?.aborted) return error;
  const { url, proxy, caVariable } = context;
  const secrets = proxy ? credentialsOf(proxy) : [];
  const chain = causeChain(error);
  const text = chain.map((e) => e.message).join("\n");
  const cause = sanitizedCause(scrubbed(error, secrets));
  const untrusted = chain.find((e) => UNTRUSTED_CODES.has(String((e as { code?: unknown }).code)));
  const rustls = UNTRUSTED_MESSAGE.exec(text);
  if (untrusted || rustls) {
    return untrustedCertificateError(url.hostname, caVariable, scrub(untrusted?.message ?? rustls![0], secrets), cause);
  }
  if (proxy) {
    const refused = REFUSED_TUNNEL.exec(text);
    if (refused) return proxyRefusedError(proxy, tunnelTarget(url), Number(refused[1] ?? refused[2]), cause);
    if (DENO_PROXY_AUTH.test(text)) return proxyRefusedError(proxy, tunnelTarget(url), 407, cause);
  }
  return scrubbed(error, secrets);
}

/**
 * The `host:port` a tunnel to `url` is asked for.
 *
 * @param url the request's URL
 * @returns e.g. `"auth.example.com:443"`
 */
export function tunnelTarget(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/** The forms the proxy's credentials may appear in (as written, decoded), longest first. */
function credentialsOf(proxy: URL): string[] {
  if (!proxy.username && !proxy.password) return [];
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
  const forms = [
    `${proxy.username}:${proxy.password}`,
    `${decode(proxy.username)}:${decode(proxy.password)}`,
    proxy.password,
    decode(proxy.password),
  ];
  return [...new Set(forms)].filter((form) => form.length >= 4 && form !== ":").sort((a, b) => b.length - a.length);
}

function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.replaceAll(secret, "***"), text);
}

function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let current = error; current instanceof Error && chain.length < 8; current = (current as { cause?: unknown }).cause) {
    chain.push(current);
  }
  return chain;
}

/** `error` itself when no message of its chain holds a secret, else a copy (names, codes, scrubbed messages). */
function scrubbed(error: unknown, secrets: readonly string[]): unknown {
  const chain = causeChain(error);
  if (!chain.some((e) => secrets.some((secret) => e.message.includes(secret) || String(e.stack).includes(secret)))) {
    return error;
  }
  let copy: Error | undefined;
  for (const original of chain.reverse()) {
    const next = new (original instanceof TypeError ? TypeError : Error)(scrub(original.message, secrets), copy ? { cause: copy } : undefined);
    next.name = original.name;
    const code = (original as { code?: unknown }).code;
    if (code !== undefined) (next as Error & { code?: unknown }).code = code;
    copy = next;
  }
  return copy;
}
