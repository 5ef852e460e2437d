/**
 * Which proxy, if any, a request goes through: the `proxy` option, else `HTTPS_PROXY` / `HTTP_PROXY` from the
 * environment, minus the hosts `NO_PROXY` names, the way curl reads them. Loopback never goes through a proxy.
 * Pure: the environment comes in as a function.
 *
 * @module
 */

import { CliAuthError } from "../common/errors.ts";

/** Reads one environment variable (`undefined` when unset). */
export type ReadEnv = (name: string) => string | undefined;

/**
 * The proxy setting of a request: a proxy URL (`"http://proxy.corp:3128"`, credentials allowed), `false` for none,
 * or `undefined` for the environment's (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`).
 *
 * @example Usage
 * ```ts
 * import type { ProxySetting } from "@x/cli-auth/protocol";
 * const none: ProxySetting = false;
 * ```
 */
export type ProxySetting = string | false | undefined;

/** The variables read for each scheme, lower case first as curl does. */
const PROXY_VARIABLES: Record<string, readonly string[]> = {
  "https:": ["https_proxy", "HTTPS_PROXY"],
  "http:": ["http_proxy", "HTTP_PROXY"],
};
const NO_PROXY_VARIABLES = ["no_proxy", "NO_PROXY"] as const;

/**
 * The proxy for a request to `url`, or `undefined` to connect directly. The order: loopback hosts (`localhost`,
 * `*.localhost`, `127.0.0.0/8`, `::1`) are always direct; `proxy: false` is direct; else the `proxy` option, or
 * `https_proxy` / `HTTPS_PROXY` for https URLs and `http_proxy` / `HTTP_PROXY` for http URLs; then `no_proxy` /
 * `NO_PROXY` (see {@link matchesNoProxy}) may still exempt the host, as in curl, whichever way the proxy was set.
 *
 * @param url the request's URL
 * @param options the `proxy` option and the environment
 * @returns the proxy's URL (credentials included), or `undefined`
 * @throws {CliAuthError} `invalid_options` when the proxy is not an http(s) URL (the value is not repeated: it may
 * hold credentials)
 *
 * @example Usage
 * ```ts
 * import { proxyForUrl } from "@x/cli-auth/protocol";
 * const env = { HTTPS_PROXY: "http://proxy.corp:3128", NO_PROXY: ".internal" } as Record<string, string>;
 * const proxy = proxyForUrl(new URL("https://auth.example.com/token"), { env: (name) => env[name] });
 * console.assert(proxy?.host === "proxy.corp:3128");
 * console.assert(proxyForUrl(new URL("https://sso.internal/"), { env: (name) => env[name] }) === undefined);
 * ```
 */
export function proxyForUrl(url: URL, options: { proxy?: ProxySetting; env: ReadEnv }): URL | undefined {
  if (options.proxy === false || isLoopbackHost(url.hostname)) return undefined;
  let value: string | undefined;
  let source = "the `proxy` option";
  if (typeof options.proxy === "string" && options.proxy.trim() !== "") {
    value = options.proxy;
  } else {
    for (const name of PROXY_VARIABLES[url.protocol] ?? []) {
      const found = options.env(name)?.trim();
      if (found) {
        value = found;
        source = name;
        break;
      }
    }
  }
  if (value === undefined) return undefined;
  const noProxy = NO_PROXY_VARIABLES.map((name) => options.env(name)?.trim()).find(Boolean);
  if (noProxy && matchesNoProxy(url, noProxy)) return undefined;
  return parseProxyUrl(value, source);
}

/**
 * A proxy given as a URL or as `host:port` (then `http://`), checked: http or https, with a host.
 *
 * @param value the proxy as written
 * @param source where it came from, for the error ("HTTPS_PROXY", "the `proxy` option")
 * @returns the proxy URL
 * @throws {CliAuthError} `invalid_options`, naming the source and not the value
 *
 * @example Usage
 * ```ts
 * import { parseProxyUrl } from "./proxy_env.ts";
 * console.assert(parseProxyUrl("proxy.corp:3128", "HTTPS_PROXY").href === "http://proxy.corp:3128/");
 * ```
 */
export function parseProxyUrl(value: string, source: string): URL {
  const text = value.trim();
  let url: URL | undefined;
  try {
    url = new URL(/^[a-z][a-z\d+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    url = undefined;
  }
  if (!url || !url.hostname) {
    throw new CliAuthError("invalid_options", `The proxy in ${source} is not a valid URL`, {
      hint: "Write it as http://host:port, with credentials if it needs them: http://user:password@host:port",
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliAuthError("invalid_options", `The proxy in ${source} uses ${url.protocol}, which is not supported`, {
      hint: "Use an http:// or https:// proxy (CONNECT)",
    });
  }
  return url;
}

/**
 * Whether `NO_PROXY` exempts `url`, by curl's rules and a few common extensions. The list is split on commas and
 * blanks; each entry is:
 * - `*`: every host;
 * - a name: that host and its subdomains (`example.com` matches `example.com` and `a.example.com`, not
 *   `notexample.com`), case-insensitively; a leading `.` or `*.` means the same, a trailing `.` is ignored;
 * - an IP address, optionally with a CIDR prefix length (`10.0.0.0/8`, `fd00::/8`, `[::1]`); names are not resolved;
 * - either of those with `:port`: only requests to that port.
 *
 * @param url the request's URL
 * @param noProxy the value of `NO_PROXY`
 * @returns whether the request goes direct
 *
 * @example Usage
 * ```ts
 * import { matchesNoProxy } from "./proxy_env.ts";
 * console.assert(matchesNoProxy(new URL("https://sso.corp.example/"), "localhost,.corp.example"));
 * console.assert(!matchesNoProxy(new URL("https://notcorp.example/"), "corp.example"));
 * ```
 */
export function matchesNoProxy(url: URL, noProxy: string): boolean {
  const host = unbracket(url.hostname).toLowerCase().replace(/\.$/, "");
  const port = url.port || (url.protocol === "https:" ? "443" : url.protocol === "http:" ? "80" : "");
  const hostIp = parseIp(host);
  for (const entry of noProxy.split(/[\s,]+/)) {
    if (entry === "") continue;
    if (entry === "*") return true;
    const { pattern, port: entryPort } = splitPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (hostIp) {
      if (ipMatches(hostIp, pattern)) return true;
      continue;
    }
    const name = pattern.toLowerCase().replace(/\.$/, "").replace(/^\*?\./, "");
    if (name !== "" && (host === name || host.endsWith(`.${name}`))) return true;
  }
  return false;
}

/**
 * Whether `hostname` is this machine: `localhost` and `*.localhost` (RFC 6761), `127.0.0.0/8`, `::1` and
 * `::ffff:127.0.0.0/104`. Such requests never go through a proxy.
 *
 * @param hostname a URL's hostname (IPv6 with or without brackets)
 * @returns whether it is a loopback host
 *
 * @example Usage
 * ```ts
 * import { isLoopbackHost } from "./proxy_env.ts";
 * console.assert(isLoopbackHost("[::1]") && isLoopbackHost("127.0.0.2") && !isLoopbackHost("10.0.0.1"));
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = unbracket(hostname).toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const ip = parseIp(host);
  if (!ip) return false;
  if (ip.length === 4) return ip[0] === 127;
  const mapped = ip.slice(0, 12).every((byte, i) => byte === (i < 10 ? 0 : 0xff));
  if (mapped) return ip[12] === 127;
  return ip.slice(0, 15).every((byte) => byte === 0) && ip[15] === 1;
}

const unbracket = (host: string) => host.replace(/^\[(.*)\]$/, "$1");

/** An entry's pattern and port: `host:port`, `[v6]:port`, `[v6]`, or a bare IPv6 address (no port). */
function splitPort(entry: string): { pattern: string; port?: string } {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { pattern: bracketed[1]!, port: bracketed[2] };
  const colon = entry.indexOf(":");
  if (colon > 0 && colon === entry.lastIndexOf(":") && /^\d+$/.test(entry.slice(colon + 1))) {
    return { pattern: entry.slice(0, colon), port: entry.slice(colon + 1) };
  }
  return { pattern: entry };
}

/** Whether `ip` is the address `pattern` names, or lies in its CIDR range. */
function ipMatches(ip: Uint8Array, pattern: string): boolean {
  const slash = pattern.indexOf("/");
  const network = parseIp(slash < 0 ? pattern : pattern.slice(0, slash));
  if (!network || network.length !== ip.length) return false;
  const prefix = slash < 0 ? String(ip.length * 8) : pattern.slice(slash + 1);
  const bits = Number(prefix);
  if (!/^\d+$/.test(prefix) || bits > ip.length * 8) return false;
  for (let i = 0; i < ip.length; i++) {
    const take = Math.min(8, Math.max(0, bits - i * 8));
    const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
    if ((ip[i]! & mask) !== (network[i]! & mask)) return false;
  }
  return true;
}

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address, or `undefined` for anything else (names). */
function parseIp(text: string): Uint8Array | undefined {
  return parseIpv4(text) ?? parseIpv6(unbracket(text));
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) return undefined;
  return Uint8Array.from(parts.map(Number));
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (!text.includes(":") || !/^[\da-f:.]+$/i.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (const [index, part] of parts.entries()) {
      if (index === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[\da-f]{1,4}$/i.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}
