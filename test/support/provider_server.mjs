// A real OpenID provider (oidc-provider) for the tests and the demo, run as a Node child process so that tests on
// Node, Bun and Deno all talk to it over loopback. Configuration comes as JSON in argv[2]; the first line on stdout
// is {"issuer": "...", "port": N}. Test-only routes under /__test/ count requests and change accounts; they never
// answer a protocol request in the provider's place.
//
// Usage: node test/support/provider_server.mjs '{"accessTokenTtl": 5}'
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import Provider from "oidc-provider";
import { exitWithParent, report } from "./json_line_server.mjs";

const options = JSON.parse(process.argv[2] ?? "{}");
const {
  host = "127.0.0.1",
  port = 0,
  accessTokenTtl = 3600,
  refreshTokenTtl = 14 * 24 * 3600,
  deviceCodeTtl = 600,
  deviceInterval = 1,
  dpop = false,
  dpopNonce = false,
  registration = false,
  resources = {},
  extraClients = [],
  userinfo = true,
  revocation = true,
  deviceFlow = true,
  issPath = "",
  // The issuer when it is not this server's own address (a proxy in front of it, as in test/hardening/).
  issuer: issuerOverride,
  // HTTPS (opt-in): PEM files of the server's key and certificate; `hostName` names the issuer's host (one only a
  // test proxy resolves), and the /__test/ routes move to a plain-HTTP listener on 127.0.0.1 (the `admin` URL).
  tls,
  hostName,
  // Step-up (opt-in): the acr values the provider may assert (acr_values_supported). A login completes with the first
  // acr_values entry of the authorization (or device) request that is one of them, else with the first of them; with
  // ignoreAcrValues always the first (a server that does not honour acr_values). auth_time is the login's time. Access
  // tokens (JWT for a resource, and opaque ones at introspection) carry acr and auth_time (extraTokenClaims).
  acrValues,
  ignoreAcrValues = false,
  // Client ID Metadata Documents (opt-in, experimental in oidc-provider 9.13): an https client_id URL is fetched as
  // the client's metadata. The process must trust the document server's CA (NODE_EXTRA_CA_CERTS, set by provider.ts).
  clientIdMetadataDocument = false,
} = options;

const keys = [
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }),
  generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }),
];
keys[0].kid = "rsa-1";
keys[0].use = "sig";
keys[1].kid = "ec-1";
keys[1].use = "sig";

/** Claims per account; changed by POST /__test/claims so whoami freshness can be proven. */
const claimOverrides = new Map();
/** Every request the provider saw: method, path, grant type, time. */
let requests = [];
/** How many upcoming pending device polls to answer with slow_down instead. */
let slowDownBudget = 0;

const resourceEntries = Object.entries(resources);
// Without the device flow feature the provider refuses clients that list its grant.
const grants = (list) => (deviceFlow ? list : list.filter((g) => !g.includes("device_code")));

const configuration = {
  ...(acrValues ? { acrValues, extraTokenClaims: authenticationClaims } : {}),
  // oidc-provider refuses to fetch from special-use addresses (loopback included) with a dispatcher of its own; the
  // document server of the tests is on loopback, so its fetch goes without that guard.
  ...(clientIdMetadataDocument
    ? { fetch: (url, { dispatcher: _ssrfGuard, ...init }) => globalThis.fetch(url, init) }
    : {}),
  clients: [
    {
      client_id: "cli",
      client_name: "Test CLI",
      application_type: "native",
      token_endpoint_auth_method: "none",
      grant_types: grants(["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]),
      response_types: ["code"],
      redirect_uris: ["http://127.0.0.1/callback", "http://[::1]/callback", "http://127.0.0.1/cb"],
    },
    {
      client_id: "cli-secret",
      client_secret: "installed-app-secret",
      application_type: "native",
      token_endpoint_auth_method: "client_secret_post",
      grant_types: grants(["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]),
      response_types: ["code"],
      redirect_uris: ["http://127.0.0.1/callback"],
    },
    {
      client_id: "api-server",
      client_secret: "api-server-secret",
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
    ...extraClients,
  ],
  cookies: { keys: ["cli-auth-test-cookie-key"] },
  jwks: { keys },
  scopes: ["openid", "offline_access", "profile", "email", "api:read", "api:write"],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "nickname"] },
  findAccount(_ctx, sub) {
    return {
      accountId: sub,
      claims() {
        return { sub, email: `${sub}@example.test`, email_verified: true, name: sub, ...claimOverrides.get(sub) };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: deviceFlow },
    revocation: { enabled: revocation },
    userinfo: { enabled: userinfo },
    introspection: { enabled: true },
    registration: { enabled: registration },
    clientIdMetadataDocument: clientIdMetadataDocument ? { enabled: true, ack: "draft-02" } : { enabled: false },
    dPoP: dpop
      ? { enabled: true, nonceSecret: dpopNonce ? randomBytes(32) : undefined, requireNonce: () => dpopNonce }
      : { enabled: false },
    resourceIndicators: {
      enabled: resourceEntries.length > 0,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo(_ctx, indicator) {
        const info = resources[indicator];
        if (!info) throw new Provider.errors.InvalidTarget();
        return {
          scope: info.scope ?? "api:read api:write",
          audience: indicator,
          accessTokenTTL: accessTokenTtl,
          accessTokenFormat: info.format ?? "jwt",
          ...(info.format === "opaque" ? {} : { jwt: { sign: { alg: "ES256" } } }),
        };
      },
    },
  },
  issueRefreshToken(_ctx, client) {
    return client.grantTypeAllowed("refresh_token");
  },
  rotateRefreshToken() {
    return true;
  },
  ttl: {
    AccessToken: accessTokenTtl,
    ClientCredentials: accessTokenTtl,
    DeviceCode: deviceCodeTtl,
    RefreshToken: refreshTokenTtl,
    AuthorizationCode: 60,
    Grant: refreshTokenTtl,
    IdToken: 3600,
    Interaction: 600,
    Session: 3600,
  },
  pkce: { required: () => true },
  renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = `<!DOCTYPE html><title>Error</title><pre>${JSON.stringify(out).replace(/</g, "&lt;")}</pre>`;
  },
};

/**
 * extraTokenClaims: the acr and auth_time of the sign-in behind an access token, from the code, device code or
 * refresh token it was issued for (oidc-provider keeps them there, not on the access token).
 */
function authenticationClaims(ctx, token) {
  if (token.kind !== "AccessToken") return undefined;
  const entities = ctx?.oidc?.entities ?? {};
  const source = entities.AuthorizationCode ?? entities.DeviceCode ?? entities.RefreshToken;
  if (!source) return undefined;
  return { acr: source.acr, auth_time: source.authTime };
}

// Learn our port first so the issuer can name it.
const server = tls ? createHttpsServer({ key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) }) : createServer();
await new Promise((resolve) => server.listen(port, host, resolve));
const address = server.address();
const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
const issuer = issuerOverride ?? `${tls ? "https" : "http"}://${hostName ?? hostPart}:${address.port}${issPath}`;
const admin = tls ? createServer() : undefined;
if (admin) await new Promise((resolve) => admin.listen(0, "127.0.0.1", resolve));

const provider = new Provider(issuer, configuration);
provider.proxy = false;

// The development login page completes a login with an account only: the scripted user's login gets its acr here.
if (acrValues) {
  const finish = provider.interactionResult.bind(provider);
  provider.interactionResult = async (req, res, result, resultOptions) => {
    if (result?.login && result.login.acr === undefined) {
      const { params } = await provider.interactionDetails(req, res);
      const requested = typeof params.acr_values === "string" ? params.acr_values.split(" ") : [];
      const acr = ignoreAcrValues ? undefined : requested.find((value) => acrValues.includes(value));
      result = { ...result, login: { ...result.login, acr: acr ?? acrValues[0] } };
    }
    return await finish(req, res, result, resultOptions);
  };
}

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith("/__test/")) {
    await testRoute(ctx);
    return;
  }
  const entry = { method: ctx.method, path: ctx.path, time: Date.now() };
  requests.push(entry);
  await next();
  entry.status = ctx.status;
  const grantType = ctx.oidc?.params?.grant_type;
  if (typeof grantType === "string") entry.grantType = grantType;
  if (ctx.body && typeof ctx.body === "object" && typeof ctx.body.error === "string") entry.error = ctx.body.error;
  // RFC 8628 lets the server choose the polling interval: send a short one so tests are quick.
  if (ctx.path.endsWith("/device/auth") && ctx.status === 200 && ctx.body && typeof ctx.body === "object") {
    ctx.body = { ...ctx.body, interval: deviceInterval };
  }
  // Fault injection for the slow_down test: a pending poll answered with slow_down instead (RFC 8628 §3.5).
  if (slowDownBudget > 0 && ctx.body?.error === "authorization_pending") {
    slowDownBudget--;
    ctx.body = { error: "slow_down", error_description: "polling too fast" };
    entry.error = "slow_down";
  }
});

async function readJson(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

async function testRoute(ctx) {
  const route = ctx.path.slice("/__test/".length);
  if (route === "requests" && ctx.method === "GET") {
    ctx.body = { requests };
  } else if (route === "reset" && ctx.method === "POST") {
    requests = [];
    ctx.body = { ok: true };
  } else if (route === "claims" && ctx.method === "POST") {
    const { sub, claims } = await readJson(ctx);
    claimOverrides.set(sub, { ...claimOverrides.get(sub), ...claims });
    ctx.body = { ok: true };
  } else if (route === "slow-down" && ctx.method === "POST") {
    const { count } = await readJson(ctx);
    slowDownBudget = count;
    ctx.body = { ok: true };
  } else {
    ctx.status = 404;
    ctx.body = { error: "not_found" };
  }
}

server.on("request", provider.callback());
// The admin listener answers the /__test/ routes only.
admin?.on("request", (req, res) => {
  if (req.url?.startsWith("/__test/")) return provider.callback()(req, res);
  res.writeHead(404).end();
});
const adminUrl = admin ? `http://127.0.0.1:${admin.address().port}` : undefined;
report({ issuer, port: address.port, admin: adminUrl });
// Exit with the parent: when the test process dies, stdin closes.
exitWithParent([admin, server], 500);
