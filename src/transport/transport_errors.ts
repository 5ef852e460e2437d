/**
 * The two transport failures a person behind a corporate network can act on — a certificate nobody told us to
 * trust, a proxy that refuses the tunnel — worded once here; the adapters recognise them on each runtime and say
 * which setting that runtime reads.
 *
 * @module
 */

import { CliAuthError } from "../common/errors.ts";

/**
 * A proxy as it may be shown: scheme, host and port, never its credentials.
 *
 * @param proxy the proxy URL
 * @returns e.g. `"http://proxy.corp:3128"`
 *
 * @example Usage
 * ```ts
 * import { proxyLabel } from "./transport_errors.ts";
 * console.assert(proxyLabel(new URL("http://me:secret@proxy.corp:3128")) === "http://proxy.corp:3128");
 * ```
 */
export function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/**
 * The `network_error` for a server certificate that no trusted CA signed (a TLS-inspecting gateway, a private CA).
 *
 * @param host the server's host name
 * @param caVariable the environment variable the running runtime reads CA files from (`NODE_EXTRA_CA_CERTS`, `DENO_CERT`)
 * @param detail what the runtime said, e.g. "unable to verify the first certificate"
 * @param cause the sanitized cause
 * @returns the error to throw
 *
 * @example Usage
 * ```ts
 * import { untrustedCertificateError } from "./transport_errors.ts";
 * const error = untrustedCertificateError("auth.example.com", "NODE_EXTRA_CA_CERTS");
 * console.assert(error.code === "network_error" && error.hint!.includes("`ca`"));
 * ```
 */
export function untrustedCertificateError(host: string, caVariable: string, detail?: string, cause?: unknown): CliAuthError {
  return new CliAuthError("network_error", `The certificate of ${host} is not trusted${detail ? ` (${detail})` : ""}`, {
    cause,
    hint: `If your network inspects TLS with its own CA, trust that CA: pass its PEM text as the \`ca\` option, or set ${caVariable} to the path of its PEM file`,
  });
}

/**
 * The `network_error` for a proxy that answered the tunnel request (`CONNECT`) with something else than 200.
 *
 * @param proxy the proxy (shown without credentials)
 * @param target the `host:port` the tunnel was for
 * @param status the proxy's status, when the runtime tells
 * @param cause the sanitized cause
 * @returns the error to throw, with `status` set
 *
 * @example Usage
 * ```ts
 * import { proxyRefusedError } from "./transport_errors.ts";
 * const error = proxyRefusedError(new URL("http://me:secret@proxy.corp:3128"), "auth.example.com:443", 407);
 * console.assert(!error.message.includes("secret") && error.status === 407);
 * ```
 */
export function proxyRefusedError(proxy: URL, target: string, status?: number, cause?: unknown): CliAuthError {
  const label = proxyLabel(proxy);
  const host = target.replace(/:\d+$/, "");
  const hint = status === 407
    ? `The proxy wants credentials: give them in the proxy URL, e.g. HTTPS_PROXY=http://user:password@${proxy.host} (or the \`proxy\` option), and check they are current`
    : status === 403
    ? `The proxy does not allow ${host}: ask your network administrators to allow it, or list it in NO_PROXY if it is reachable without the proxy`
    : `The proxy could not open the connection to ${host}: check the host name, and that the proxy can reach it`;
  return new CliAuthError(
    "network_error",
    `The proxy ${label} refused the tunnel to ${target}${status === undefined ? "" : ` (HTTP ${status})`}`,
    { cause, hint, status },
  );
}
