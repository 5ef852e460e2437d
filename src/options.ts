/**
 * `CliAuth`'s options, and the one place they are checked and normalised: {@link checkOptions} runs in the
 * constructor, throws `invalid_options` for what cannot work, and returns the {@link Config} every part of `CliAuth`
 * reads (defaults applied, `resource` as a list, the API origins, the login hint, the HTTP options, and the
 * platform, logger and store, each made once on first use). The name rules are `names.ts`'s, shared with every store.
 *
 * @module
 */

import { CliAuthError } from "./common/errors.ts";
import type { ServerEndpoints } from "./common/discovery.ts";
import type { FetchLike, HttpOptions } from "./common/http.ts";
import type { CredentialStore, LockOptions, Logger, Platform, StorageOption } from "./contracts.ts";
import { checkProfile, checkService } from "./names.ts";

/** The scopes asked for when `scopes` is not given. */
export const DEFAULT_SCOPES: readonly string[] = ["openid", "profile", "email", "offline_access"];

/**
 * Options of {@link CliAuth}. See the README for provider recipes.
 *
 * @example Usage
 * ```ts
 * import type { CliAuthOptions } from "@x/cli-auth";
 * const options: CliAuthOptions = { issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" };
 * ```
 */
export interface CliAuthOptions {
  /** The issuer; discovery finds the endpoints (OpenID Connect, then RFC 8414). */
  issuer?: string;
  /**
   * The public client registered for the CLI; or an https URL where the CLI publishes its client metadata (a Client
   * ID Metadata Document), for servers that fetch it instead of requiring registration. A URL (anything starting with
   * `http:` or `https:`) must be https, with a path, no dot segment, no fragment and no user name or password, and
   * written in canonical form, since servers compare it exactly as sent (`invalid_options` otherwise;
   * `http://localhost` neither).
   *
   * @example A client ID metadata document
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const auth = new CliAuth({
   *   issuer: "https://auth.example.com", clientId: "https://cli.example.com/oauth/client.json", service: "my-cli",
   * });
   * ```
   */
  clientId?: string;
  /**
   * Sign-in from a resource URL (no `clientId`): the https URL of the CLI's client ID metadata document
   * (draft-ietf-oauth-client-id-metadata-document). When the authorization server's metadata says
   * `client_id_metadata_document_supported: true`, this URL is the client ID and nothing is registered; otherwise
   * the client is registered (RFC 7591) as without it, and a client registered earlier is reused. Ignored when
   * `clientId` is set. Checked like a URL `clientId`.
   *
   * @example Usage
   * ```ts
   * import { CliAuth } from "@x/cli-auth";
   * const auth = new CliAuth({
   *   resource: "https://api.example.com/", clientMetadataUrl: "https://cli.example.com/oauth/client.json", service: "my-cli",
   * });
   * ```
   * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/
   */
  clientMetadataUrl?: string;
  /** Names the keychain entry and the config folder. */
  service: string;
  /** Scopes to ask for (default `openid profile email offline_access`). */
  scopes?: readonly string[];
  /** Endpoints by hand; with `token` set there is no discovery (GitHub). */
  endpoints?: ServerEndpoints;
  /** Only for providers that issue non-secret "installed app" secrets. */
  clientSecret?: string;
  /**
   * `"auto"` (default: keychain, else a 0600 file with one warning), `"keychain"`, `"file"`, `"memory"` (or another
   * store the platform knows by name), or a store.
   */
  storage?: StorageOption;
  /** Keeps several accounts side by side (default `"default"`). */
  profile?: string;
  /** The environment variable `resolveToken()` reads. */
  tokenEnvVar?: string;
  /** Your API's identity route; `whoami()` uses it when set, else userinfo. */
  identityEndpoint?: string;
  /**
   * Refresh when the access token expires within this many seconds (default 30), but never before half its lifetime
   * as issued has passed (a 20-s token is refreshed 10 s before it expires).
   */
  refreshSkewSeconds?: number;
  /** Per HTTP request, in ms (default 30 000). */
  timeoutMs?: number;
  /** RFC 8707 resource indicator(s). */
  resource?: string | readonly string[];
  /** Permit `http://` issuers (local development and tests only). */
  allowInsecureRequests?: boolean;
  /** A custom `fetch` (instrumentation, a transport of your own); then `proxy` and `ca` do not apply. */
  fetch?: FetchLike;
  /**
   * The HTTP(S) proxy for every request, e.g. `"http://user:password@proxy.corp:3128"`; `false` for none. Default:
   * `HTTPS_PROXY` / `HTTP_PROXY` and `NO_PROXY` as curl reads them. Loopback never goes through a proxy.
   */
  proxy?: string | false;
  /** CA certificates (PEM) to trust besides the system's (and `NODE_EXTRA_CA_CERTS` / `DENO_CERT`). */
  ca?: string | readonly string[];
  /** Where the library's few warnings go (default: stderr). */
  logger?: Logger;
  /** The runtime pieces (default: the adapters for Deno, Bun or Node). */
  platform?: Platform | (() => Promise<Platform>);
  /**
   * RFC 9449: bind the session's tokens to a key pair made at login and kept only in the stored session. Every
   * token, refresh, userinfo and `auth.fetch` request then carries a DPoP proof.
   */
  dpop?: boolean;
  /** Origins `auth.fetch` may send the token to (default: the `resource` origins, else the `identityEndpoint` origin). */
  apiOrigins?: readonly string[];
  /** How hints tell the user to log in (default `` `<service> login` ``). */
  loginCommand?: string;
  /** The clock, epoch ms (default `Date.now`); for tests. */
  now?: () => number;
  /**
   * The cross-process refresh lock: its folder (default: `$XDG_RUNTIME_DIR/cli-auth` when set and the user's own,
   * else `cli-auth` in the user's cache folder), after how long without renewal a holder counts as gone (`staleMs`,
   * default 60 000; a live holder renews its lock every `staleMs / 3`), and how long to wait for it (`timeoutMs`,
   * default 70 000, then `timeout`).
   */
  lock?: LockOptions;
}


/**
 * The options as `CliAuth`'s parts read them: checked once, defaults applied. The platform, the logger and the store
 * are made on first use, once per instance.
 */
export interface Config {
  /** Names the keychain entry and the config folder. */
  readonly service: string;
  /** The profile this instance reads and writes (default `"default"`). */
  readonly profile: string;
  /** The configured issuer, if any. */
  readonly issuer?: string;
  /** The configured client, if any (else one registered on the fly). */
  readonly clientId?: string;
  /** The client ID metadata document's URL, for sign-in from a resource URL. */
  readonly clientMetadataUrl?: string;
  /** For providers that issue non-secret "installed app" secrets. */
  readonly clientSecret?: string;
  /** Endpoints given by hand. */
  readonly endpoints?: ServerEndpoints;
  /** The scopes of a login (default {@link DEFAULT_SCOPES}). */
  readonly scopes: readonly string[];
  /** The refresh skew in seconds, when given (the refresher applies its default). */
  readonly refreshSkewSeconds?: number;
  /** RFC 8707 resource indicators, as given, in a list. */
  readonly resources: readonly string[];
  /** Where `auth.fetch` may send the token: `apiOrigins`, else the resources, else the identity endpoint. */
  readonly apiOrigins: readonly string[];
  /** Your API's identity route, if any. */
  readonly identityEndpoint?: string;
  /** The variable `resolveToken()` reads, if any. */
  readonly tokenEnvVar?: string;
  /** Whether new logins are DPoP-bound. */
  readonly dpop: boolean;
  /** The refresh lock's folder, lease and wait. */
  readonly lock?: LockOptions;
  /** How hints tell the user to log in: `` Run `my-cli login` ``. */
  readonly loginHint: string;
  /** The clock, epoch ms. */
  readonly now: () => number;
  /** Timeout, `fetch` (yours, else the platform's transport with `proxy` and `ca`) and `allowInsecureRequests`. */
  readonly http: HttpOptions;
  /** The platform (loaded once). */
  platform(): Promise<Platform>;
  /** Where warnings go: the `logger` option, else stderr. */
  logger(): Promise<Logger>;
  /** The credential store (made once). */
  store(): Promise<CredentialStore>;
}

/**
 * Checks `options` and normalises them once; nothing is read, stored or requested.
 *
 * @param options the options given to `CliAuth`
 * @param defaultPlatform where the platform comes from when `options.platform` is not set
 * @returns the configuration the parts read
 * @throws {CliAuthError} `invalid_options`
 *
 * @example Usage
 * ```ts
 * import { checkOptions } from "./options.ts";
 * const config = checkOptions({ issuer: "https://auth.example.com", clientId: "my-cli", service: "my-cli" });
 * console.assert(config.profile === "default" && config.loginHint === "Run `my-cli login`");
 * ```
 */
export function checkOptions(options: CliAuthOptions, defaultPlatform?: () => Promise<Platform>): Config {
  if (!options || options.service === undefined) {
    throw new CliAuthError("invalid_options", "The `service` option is required", {
      hint: 'Name your CLI, e.g. `service: "my-cli"`: it names the keychain entry and the config folder',
    });
  }
  checkService(options.service); // the same rules as every store (names.ts)
  const resources = options.resource === undefined ? [] : typeof options.resource === "string" ? [options.resource] : [...options.resource];
  if (!options.issuer && !options.endpoints?.token && resources.length === 0) {
    throw new CliAuthError("invalid_options", "Neither `issuer`, `endpoints.token` nor `resource` was given", {
      hint: "Set `issuer` to your authorization server (discovery finds the rest), or `resource` to your API's URL",
    });
  }
  if (!options.clientId && resources.length === 0) {
    throw new CliAuthError("invalid_options", "The `clientId` option is required", {
      hint: "Register a public (native) client for your CLI and pass its client ID (or the https URL of its client metadata document)",
    });
  }
  if (options.clientId !== undefined && URL_SHAPED.test(options.clientId)) checkMetadataDocumentUrl("clientId", options.clientId);
  if (options.clientMetadataUrl !== undefined) checkMetadataDocumentUrl("clientMetadataUrl", options.clientMetadataUrl);
  if (options.fetch && (options.proxy !== undefined || options.ca !== undefined)) {
    throw new CliAuthError("invalid_options", "The `fetch` option cannot be combined with `proxy` or `ca`", {
      hint: "Your `fetch` makes the connections: give it the proxy and the CAs, or drop it",
    });
  }
  const profile = options.profile ?? "default";
  checkProfile(profile);
  const { service } = options;

  const given = options.platform;
  const loadPlatform = typeof given === "function"
    ? given
    : given
    ? () => Promise.resolve(given)
    : defaultPlatform ?? (() => Promise.reject(new CliAuthError("invalid_options", "No platform was given")));
  let platform: Promise<Platform> | undefined;
  const config: Config = {
    service,
    profile,
    issuer: options.issuer,
    clientId: options.clientId,
    clientMetadataUrl: options.clientMetadataUrl,
    clientSecret: options.clientSecret,
    endpoints: options.endpoints,
    scopes: options.scopes ?? DEFAULT_SCOPES,
    refreshSkewSeconds: options.refreshSkewSeconds,
    resources,
    apiOrigins: options.apiOrigins
      ? [...options.apiOrigins]
      : resources.length > 0
      ? [...resources]
      : options.identityEndpoint
      ? [options.identityEndpoint]
      : [],
    identityEndpoint: options.identityEndpoint,
    tokenEnvVar: options.tokenEnvVar,
    dpop: Boolean(options.dpop),
    lock: options.lock,
    loginHint: `Run \`${options.loginCommand ?? `${service} login`}\``,
    now: options.now ?? (() => Date.now()),
    http: {
      timeoutMs: options.timeoutMs,
      fetch: options.fetch ?? platformTransport(() => config.platform(), options.proxy, options.ca),
      allowInsecureRequests: options.allowInsecureRequests,
    },
    platform: () => platform ??= loadPlatform(),
    logger: async () => {
      if (options.logger) return options.logger;
      const { terminal } = await config.platform();
      return { warn: (message) => terminal.writeStderr(`${message}\n`) };
    },
    store: once(async () => {
      const storage: StorageOption = options.storage ?? "auto";
      if (typeof storage === "object") return storage;
      const { createStore } = await config.platform();
      return createStore(storage, { service, logger: await config.logger() });
    }),
  };
  return config;
}

/**
 * A client ID that is meant as a URL: a scheme followed by `://`, or anything that starts with `http:` or `https:`
 * in any case, spaces before it included (`https:/x`, `HTTPS:x`). `urn:…` and plain names are opaque IDs.
 */
const URL_SHAPED = /^[a-z][a-z0-9+.-]*:\/\/|^\s*https?:/i;

/** A dot segment (`.` or `..`, percent-encoded or not) in the path of a URL as written, before any `?` or `#`. */
const DOT_SEGMENT = /[/\\](?:\.|%2e){1,2}(?=[/\\]|$)/i;

/**
 * A client ID metadata document's URL: the server fetches the client's metadata from it and compares `client_id`
 * exactly as sent, so the string itself must be the URL in its canonical form (what `new URL(value).href` gives:
 * lower-case scheme and host, no default port, no whitespace or backslash), https (loopback http too is refused: no
 * server fetches a document from the user's own machine), with a path other than `/` and without dot segments (the
 * draft asks for both), without a fragment, and without a user name or password (they would be sent to every server
 * as the client ID). Messages name the option and the rule, never the value.
 */
function checkMetadataDocumentUrl(option: "clientId" | "clientMetadataUrl", value: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  const path = value.split(/[?#]/, 1)[0]!.replace(/^[a-z][a-z0-9+.-]*:[/\\]*[^/\\]*/i, "");
  const problem = !url || !URL_SHAPED.test(value)
    ? "is not a URL"
    : url.protocol !== "https:"
    ? "is not an https URL"
    : /^[a-z][a-z0-9+.-]*:[/\\]*[^/\\?#]*@/i.test(value) || url.username || url.password
    ? "has a user name or password"
    : value.includes("#")
    ? "has a fragment (#…)"
    : url.hostname === ""
    ? "has no host"
    : DOT_SEGMENT.test(path)
    ? "has a dot segment (/./ or /../, maybe percent-encoded) in its path"
    : url.pathname === "/"
    ? "has no path (the document's path, as in https://host/path/client.json)"
    : url.href !== value
    ? "is not written in canonical form (lower-case scheme and host, `https://`, no default port, no space, tab, line break or backslash)"
    : url.port === "0"
    ? "has port 0"
    : undefined;
  if (problem) {
    throw new CliAuthError("invalid_options", `The \`${option}\` URL ${problem}`, {
      hint: 'A client ID metadata document is published at an https URL with a path, written exactly as the server sees it, e.g. "https://cli.example.com/oauth/client.json"',
    });
  }
}

/**
 * Whether something stored (a session, a pending sign-in) was made with the issuer and client this configuration
 * names; a configuration that names neither takes any (its client was registered on the fly).
 *
 * @param config the configuration
 * @param made the issuer and client it was made with
 * @returns whether it belongs to this configuration
 */
export function madeWith(config: Pick<Config, "issuer" | "clientId">, made: { issuer: string; clientId: string }): boolean {
  const trim = (value: string) => value.replace(/\/+$/, "");
  if (config.issuer && trim(made.issuer) !== trim(config.issuer)) return false;
  return !config.clientId || made.clientId === config.clientId;
}

/**
 * Resource indicators in a form two configurations can be compared by: each as a URL's `href` when it parses, sorted,
 * without repeats.
 *
 * @param resources resource indicators as configured or stored
 * @returns them normalised
 */
export function normalResources(resources: readonly string[]): string[] {
  const href = (resource: string) => {
    try {
      return new URL(resource).href;
    } catch {
      return resource;
    }
  };
  return [...new Set(resources.map(href))].sort();
}

/**
 * Whether two lists name the same resources (`https://API.example` and `https://api.example/` are one).
 *
 * @param a resource indicators
 * @param b resource indicators
 * @returns whether they are the same once normalised
 */
export function sameResources(a: readonly string[], b: readonly string[]): boolean {
  const [left, right] = [normalResources(a), normalResources(b)];
  return left.length === right.length && left.every((resource, i) => resource === right[i]);
}

/** `make`, called on first use only; later calls get the same promise. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => made ??= make();
}

/** The platform's transport with the `proxy` and `ca` options, made on the first request. */
function platformTransport(platform: () => Promise<Platform>, proxy: string | false | undefined, ca: CliAuthOptions["ca"]): FetchLike {
  let transport: Promise<FetchLike> | undefined;
  const make = async (): Promise<FetchLike> => {
    const { createTransport } = await platform();
    if (createTransport) return createTransport({ proxy, ca });
    if (proxy || ca) {
      throw new CliAuthError("invalid_options", "This platform cannot apply the `proxy` and `ca` options", {
        hint: "Give the platform a `createTransport`, or pass a `fetch` of your own",
      });
    }
    return (input, init) => globalThis.fetch(input, init);
  };
  return async (input, init) => await (await (transport ??= make()))(input, init);
}
