// Publishes client metadata documents over HTTPS for the Client ID Metadata Document tests (see
// client_metadata_server.mjs): the URL of a document is the client ID; the provider fetches it when it meets that
// client ID (start it with `clientIdMetadataDocument: true` and `extraCaFile: ca.caFile`). Counts the fetches.
import { fileURLToPath } from "node:url";
import { startJsonLineChild } from "./json_line_child.ts";
import type { TestCa } from "./test_ca.ts";

/**
 * What a CLI publishes (the README's recipe): a native public client with loopback redirect URIs (any port, RFC
 * 8252 §7.3), the code, refresh and device grants, no client authentication.
 */
export const CLI_CLIENT_METADATA = {
  client_name: "Test CLI (metadata document)",
  application_type: "native",
  token_endpoint_auth_method: "none",
  grant_types: ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
  response_types: ["code"],
  redirect_uris: ["http://127.0.0.1/callback", "http://[::1]/callback"],
} as const;

export interface ClientMetadataServerOptions {
  /** The CA whose certificate (for 127.0.0.1) the server presents. */
  ca: TestCa;
  /** Documents by path; `client_id` is the document's URL unless the document names one itself. */
  documents: Record<string, Record<string, unknown>>;
  /** A `Cache-Control` header for every document (the provider caches 30 s to 1 day by it). */
  cacheControl?: string;
}

export interface ClientMetadataServer {
  /** `https://127.0.0.1:<port>`. */
  origin: string;
  /** The URL (the client ID) of the document at `path`. */
  url(path: string): string;
  /** How many GET requests reached `path` (every path when absent). */
  fetches(path?: string): number;
  close(): Promise<void>;
}

const script = fileURLToPath(new URL("./client_metadata_server.mjs", import.meta.url));

export async function startClientMetadataServer(options: ClientMetadataServerOptions): Promise<ClientMetadataServer> {
  const { ca, documents, cacheControl } = options;
  const gets: string[] = [];
  const child = await startJsonLineChild(
    "document server",
    script,
    { keyFile: ca.keyFile, certFile: ca.certFile, documents, cacheControl },
    (line) => (typeof line.origin === "string" ? (line.origin as string) : undefined),
    (line) => void (typeof line.get === "string" && gets.push(line.get)),
  );
  const origin = child.ready;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    fetches: (path) => (path === undefined ? gets.length : gets.filter((get) => get === path).length),
    close: child.close,
  };
}
