// A private CA and a server certificate signed by it, made by Debian's `openssl` (two commands) in a temporary
// folder: for a provider served over HTTPS that nothing trusts unless told to (the `ca` option, NODE_EXTRA_CA_CERTS,
// DENO_CERT).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  /** The CA certificate, PEM text and file. */
  caPem: string;
  caFile: string;
  /** The server's key and certificate files (for the provider's `tls` option). */
  keyFile: string;
  certFile: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  const result = spawnSync("openssl", args, { cwd, encoding: "utf8", timeout: 20_000 });
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed (${result.status ?? result.error}): ${result.stderr}`);
}

/** Makes a CA and a certificate for `hosts` (DNS names) and 127.0.0.1, valid for a day. */
export function createTestCa(hosts: readonly string[]): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "cli-auth-ca-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=cli-auth test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"], dir);
  const names = [...hosts.map((host) => `DNS:${host}`), "IP:127.0.0.1"].join(",");
  openssl(["req", "-x509", "-CA", "ca.pem", "-CAkey", "ca.key", ...ec, "-keyout", "server.key", "-out", "server.pem", "-subj", `/CN=${hosts[0] ?? "localhost"}`, "-addext", `subjectAltName=${names}`, "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"], dir);
  return {
    caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
    caFile: join(dir, "ca.pem"),
    keyFile: join(dir, "server.key"),
    certFile: join(dir, "server.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
