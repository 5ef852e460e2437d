/**
 * The CA list to hand Node's and Bun's TLS when the `ca` option is set: there, a CA list REPLACES the default trust
 * (checked: Node's `connect.ca` / `requestTls.ca`, Bun's `tls.ca` both drop `NODE_EXTRA_CA_CERTS`), so the default
 * is rebuilt around the extra CAs: the runtime's bundled roots, the `NODE_EXTRA_CA_CERTS` file, then `ca`.
 *
 * @module
 */

/**
 * The bundled roots, the `NODE_EXTRA_CA_CERTS` file (when readable) and `ca`; `undefined` when `ca` is empty (the
 * runtime's default trust then applies as it is).
 *
 * @param ca the extra CAs (PEM)
 * @param env reads an environment variable (`NODE_EXTRA_CA_CERTS`)
 * @returns the CA list for TLS options
 */
export async function withDefaultTrust(
  ca: readonly string[],
  env: (name: string) => string | undefined,
): Promise<string[] | undefined> {
  if (ca.length === 0) return undefined;
  const [{ rootCertificates }, { readFileSync }] = await Promise.all([import("node:tls"), import("node:fs")]);
  const extra: string[] = [];
  const file = env("NODE_EXTRA_CA_CERTS");
  if (file) {
    try {
      extra.push(readFileSync(file, "utf8"));
    } catch {
      // The runtime warned about an unreadable file at start-up already.
    }
  }
  return [...rootCertificates, ...extra, ...ca];
}
