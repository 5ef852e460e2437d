/**
 * Deno's routed fetch: `fetch` with a `Deno.HttpClient` (`Deno.createHttpClient`, stable in Deno 2) per proxy:
 * `proxy` for a proxy, `caCerts` for extra CAs (added to the defaults and `DENO_CERT`). Every client Deno makes reads
 * `HTTPS_PROXY` and friends itself, and there is no "no proxy" setting, so the direct client is made with those
 * variables out of the environment for the instant of the (synchronous) call. Deno reports a refused tunnel without
 * its status; the status is then asked of the proxy with one `CONNECT` of our own.
 *
 * @module
 */

import { proxyRefusedError } from "../../src/transport/transport_errors.ts";
import type { RoutedFetch } from "../runtime_pieces.ts";
import { DENO_REFUSED_TUNNEL, tunnelTarget } from "../transport/_failure.ts";

interface HttpClientLike {
  close(): void;
}
interface ConnLike {
  write(bytes: Uint8Array): Promise<number>;
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}
interface DenoLike {
  createHttpClient(options: {
    caCerts?: string[];
    proxy?: { url: string; basicAuth?: { username: string; password: string } };
  }): HttpClientLike;
  env: { get(name: string): string | undefined; set(name: string, value: string): void; delete(name: string): void };
  connect(options: { hostname: string; port: number }): Promise<ConnLike>;
  connectTls(options: { hostname: string; port: number; caCerts?: string[] }): Promise<ConnLike>;
}

const deno = () => (globalThis as unknown as { Deno: DenoLike }).Deno;

/** What Deno's HTTP clients read proxies from. */
const DENO_PROXY_VARIABLES = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];
const TUNNEL_PROBE_TIMEOUT_MS = 5_000;

/**
 * Makes Deno's routed fetch.
 *
 * @param ca the extra CAs (PEM)
 * @returns the routed fetch
 *
 * @example Usage
 * ```ts
 * import { createRoutedFetch } from "./transport.ts";
 * const routed = createRoutedFetch([]);
 * const response = await routed("https://auth.example.com/", undefined, new URL("http://proxy.corp:3128"));
 * ```
 */
export function createRoutedFetch(ca: readonly string[]): RoutedFetch {
  const clients = new Map<string, HttpClientLike>();
  const clientFor = (proxy: URL | undefined): HttpClientLike => {
    const key = proxy?.href ?? "direct";
    let client = clients.get(key);
    if (!client) {
      const caCerts = [...ca];
      client = proxy
        ? deno().createHttpClient({ caCerts, proxy: proxyOption(proxy) })
        : withoutProxyVariables(() => deno().createHttpClient({ caCerts }));
      clients.set(key, client);
    }
    return client;
  };
  return async (input, init, proxy) => {
    try {
      return await fetch(input, { ...init, client: clientFor(proxy) } as RequestInit);
    } catch (error) {
      const text = `${(error as Error)?.message}\n${((error as Error)?.cause as Error | undefined)?.message}`;
      if (!proxy || !DENO_REFUSED_TUNNEL.test(text) || init?.signal?.aborted) throw error;
      const url = new URL(input instanceof Request ? input.url : input);
      const target = tunnelTarget(url);
      throw proxyRefusedError(proxy, target, await tunnelStatus(proxy, target, ca), new Error("unsuccessful tunnel"));
    }
  };
}

/** The proxy for `Deno.createHttpClient`: its URL without credentials, which go (decoded) as Basic auth. */
function proxyOption(proxy: URL): { url: string; basicAuth?: { username: string; password: string } } {
  const url = `${proxy.protocol}//${proxy.host}`;
  if (!proxy.username && !proxy.password) return { url };
  return { url, basicAuth: { username: decodeURIComponent(proxy.username), password: decodeURIComponent(proxy.password) } };
}

/**
 * Runs `make` with Deno's proxy variables out of the environment, then puts them back. Without permission to change
 * them (`--allow-env` limited to reading), the client is made as it is: Deno's own proxy rules then apply.
 */
function withoutProxyVariables<T>(make: () => T): T {
  const { env } = deno();
  const saved = new Map<string, string>();
  try {
    for (const name of DENO_PROXY_VARIABLES) {
      const value = env.get(name);
      if (value !== undefined) {
        env.delete(name);
        saved.set(name, value);
      }
    }
  } catch {
    // Not permitted: nothing more was removed.
  }
  try {
    return make();
  } finally {
    for (const [name, value] of saved) env.set(name, value);
  }
}

/** Asks the proxy for the tunnel once more, by hand, to learn the status Deno does not report. */
async function tunnelStatus(proxy: URL, target: string, ca: readonly string[]): Promise<number | undefined> {
  const hostname = proxy.hostname.replace(/^\[|\]$/g, "");
  const port = Number(proxy.port || (proxy.protocol === "https:" ? 443 : 80));
  let conn: ConnLike | undefined;
  const timer = setTimeout(() => conn?.close(), TUNNEL_PROBE_TIMEOUT_MS);
  try {
    conn = proxy.protocol === "https:"
      ? await deno().connectTls({ hostname, port, caCerts: [...ca] })
      : await deno().connect({ hostname, port });
    const credentials = proxy.username || proxy.password
      ? `Proxy-Authorization: Basic ${btoa(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`)}\r\n`
      : "";
    await conn.write(new TextEncoder().encode(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${credentials}\r\n`));
    const buffer = new Uint8Array(512);
    const read = await conn.read(buffer);
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(new TextDecoder().decode(buffer.subarray(0, read ?? 0)))?.[1];
    return status ? Number(status) : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // Closed by the timer already.
    }
  }
}
