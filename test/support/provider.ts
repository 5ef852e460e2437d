// Starts the real OpenID provider (test/support/provider_server.mjs) in a Node child process on 127.0.0.1 and gives
// tests its issuer plus a few test-only controls (request log, claim changes, slow_down injection).
import { fileURLToPath } from "node:url";
import { startJsonLineChild } from "./json_line_child.ts";

/** Options of the test provider (see provider_server.mjs). */
export interface ProviderOptions {
  accessTokenTtl?: number;
  refreshTokenTtl?: number;
  deviceCodeTtl?: number;
  deviceInterval?: number;
  dpop?: boolean;
  dpopNonce?: boolean;
  registration?: boolean;
  resources?: Record<string, { format?: "jwt" | "opaque"; scope?: string }>;
  extraClients?: Record<string, unknown>[];
  userinfo?: boolean;
  revocation?: boolean;
  deviceFlow?: boolean;
  host?: string;
  port?: number;
  /** The issuer, when something else (a proxy) answers at that address in front of this provider. */
  issuer?: string;
  /** Serve HTTPS with this key and certificate (PEM files); the test routes then move to `adminUrl`. */
  tls?: { keyFile: string; certFile: string };
  /** The issuer's host name instead of the listening address (e.g. `idp.test`, which only a test proxy resolves). */
  hostName?: string;
  /**
   * Step-up (RFC 9470): the acr values the provider may assert (`acr_values_supported`). A login completes with the
   * first `acr_values` entry of the authorization or device request that is one of them, else with the first of
   * them; `auth_time` is the time of the login. JWT access tokens for a resource and introspection answers carry
   * `acr` and `auth_time`; ID tokens carry `acr` when the request had `acr_values`.
   */
  acrValues?: string[];
  /** With `acrValues`: every login completes with the first of them, whatever `acr_values` asked (a server that ignores it). */
  ignoreAcrValues?: boolean;
  /**
   * Client ID Metadata Documents (`features.clientIdMetadataDocument`, draft-02): an https `client_id` URL is
   * fetched as the client's metadata; discovery says `client_id_metadata_document_supported: true`. Give the
   * document server's CA in `extraCaFile`.
   */
  clientIdMetadataDocument?: boolean;
  /** A PEM file of CAs the provider process trusts besides the system's (its `NODE_EXTRA_CA_CERTS`). */
  extraCaFile?: string;
}

/** One request the provider saw. */
export interface ProviderRequest {
  method: string;
  path: string;
  time: number;
  status?: number;
  grantType?: string;
  error?: string;
}

/** A running test provider. */
export interface TestProvider {
  issuer: string;
  port: number;
  /** Where the test-only routes are: the issuer, or a plain-HTTP listener on 127.0.0.1 when the provider has TLS. */
  adminUrl: string;
  /** Every request seen since start or the last reset. */
  requests(): Promise<ProviderRequest[]>;
  /** Token endpoint requests with the given grant type. */
  tokenRequests(grantType: string): Promise<ProviderRequest[]>;
  reset(): Promise<void>;
  setClaims(sub: string, claims: Record<string, unknown>): Promise<void>;
  slowDown(count: number): Promise<void>;
  /** Stops the provider (its port closes). */
  close(): Promise<void>;
  /** The provider's stderr so far (for failing tests). */
  logs(): string;
}

const script = fileURLToPath(new URL("./provider_server.mjs", import.meta.url));

export { NODE } from "./json_line_child.ts";

/** The device flow's grant type (RFC 8628), as `tokenRequests()` and `ProviderRequest.grantType` name it. */
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/**
 * Starts a provider; resolves once it listens.
 */
export async function startProvider(options: ProviderOptions = {}): Promise<TestProvider> {
  const { extraCaFile, ...serverOptions } = options;
  // 30 s: on a 2-core machine running the suite's other providers, browsers and keyrings, a Node child's start can
  // take well over its usual second. A provider that did not start is killed, never left running.
  const child = await startJsonLineChild(
    "provider",
    script,
    serverOptions,
    (line) => (typeof line.issuer === "string" ? (line as { issuer: string; port: number; admin?: string }) : undefined),
    () => {},
    { env: extraCaFile ? { NODE_EXTRA_CA_CERTS: extraCaFile } : {}, startTimeoutMs: 30_000 },
  );
  const { issuer, port, admin: adminUrl = issuer } = child.ready;

  const admin = async (route: string, body?: unknown) => {
    const response = await fetch(`${adminUrl}/__test/${route}`, {
      method: body === undefined ? "GET" : "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`provider /__test/${route}: ${response.status}`);
    return await response.json();
  };

  return {
    issuer,
    port,
    adminUrl,
    async requests() {
      return ((await admin("requests")) as { requests: ProviderRequest[] }).requests;
    },
    async tokenRequests(grantType: string) {
      const all = ((await admin("requests")) as { requests: ProviderRequest[] }).requests;
      return all.filter((r) => r.path === "/token" && r.grantType === grantType);
    },
    async reset() {
      await admin("reset", {});
    },
    async setClaims(sub, claims) {
      await admin("claims", { sub, claims });
    },
    async slowDown(count) {
      await admin("slow-down", { count });
    },
    close: child.close,
    logs: child.stderr,
  };
}
