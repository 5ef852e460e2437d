// The protocol core against a real OpenID provider (oidc-provider in a Node child process on 127.0.0.1).
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAuthorizationUrl, createPkce, createProtocolContext, exchangeAuthorizationCode, fetchUserInfo, pollDeviceToken, type ProtocolContext, refreshTokens, requestDeviceAuthorization, resolveAuthorizationServer, revokeToken, validateCallback } from "../../src/mod.ts";
import { approveDevice, authorizeWithoutBrowser } from "../support/interact.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { rejection, throws } from "../support/reject.ts";

const http = { allowInsecureRequests: true, timeoutMs: 10_000 };
const REDIRECT = "http://127.0.0.1:41111/callback";
const SCOPES = ["openid", "email", "profile", "offline_access"];

let provider: TestProvider;
let context: ProtocolContext;

beforeAll(async () => {
  provider = await startProvider();
  const as = await resolveAuthorizationServer({ issuer: provider.issuer, http });
  context = createProtocolContext(as, { clientId: "cli", http });
});
afterAll(async () => {
  await provider?.close();
});

async function codeFlow(ctx = context, login = "alice") {
  const pkce = await createPkce();
  const url = buildAuthorizationUrl(ctx, pkce, { redirectUri: REDIRECT, scopes: SCOPES });
  const callback = await authorizeWithoutBrowser(url, { login });
  return { pkce, callback };
}

async function login(ctx = context, loginName = "alice") {
  const { pkce, callback } = await codeFlow(ctx, loginName);
  const params = validateCallback(ctx, callback, pkce.state);
  return await exchangeAuthorizationCode(ctx, params, { redirectUri: REDIRECT, codeVerifier: pkce.codeVerifier });
}

describe("resolveAuthorizationServer()", () => {
  it("discovers the provider through OpenID Connect discovery", async () => {
    const as = await resolveAuthorizationServer({ issuer: provider.issuer, http });
    expect(as.issuer).toBe(provider.issuer);
    expect(as.token_endpoint).toBe(`${provider.issuer}/token`);
    expect(as.device_authorization_endpoint).toBe(`${provider.issuer}/device/auth`);
    expect(as.revocation_endpoint).toBe(`${provider.issuer}/token/revocation`);
    expect(as.userinfo_endpoint).toBe(`${provider.issuer}/me`);
  });

  it("falls back to RFC 8414 metadata when OpenID Connect discovery is missing", async () => {
    const discovered = await resolveAuthorizationServer({ issuer: provider.issuer, http });
    let origin = "";
    const server: Server = createServer((req, res) => {
      if (req.url === "/.well-known/oauth-authorization-server") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ ...discovered, issuer: origin }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const as = await resolveAuthorizationServer({ issuer: origin, http });
      expect(as.issuer).toBe(origin);
      expect(as.token_endpoint).toBe(discovered.token_endpoint);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("refuses a discovery document that names another issuer with issuer_mismatch", async () => {
    const server: Server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ issuer: "https://evil.example", token_endpoint: "https://evil.example/token" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const error = await rejection(resolveAuthorizationServer({ issuer: origin, http }));
      expect(error.code).toBe("issuer_mismatch");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("uses manual endpoints without any discovery request", async () => {
    await provider.reset();
    const as = await resolveAuthorizationServer({
      issuer: provider.issuer,
      endpoints: {
        authorization: `${provider.issuer}/auth`,
        token: `${provider.issuer}/token`,
        userinfo: `${provider.issuer}/me`,
      },
      http,
    });
    expect((await provider.requests()).filter((r) => r.path.includes("well-known"))).toEqual([]);
    const manual = createProtocolContext(as, { clientId: "cli", http });
    const { tokens } = await login(manual);
    expect(tokens.accessToken).toBeTruthy();
    const user = await fetchUserInfo(manual, tokens.accessToken);
    expect(user.sub).toBe("alice");
  });

  it("fails with network_error when the issuer is unreachable", async () => {
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await rejection(resolveAuthorizationServer({ issuer: `http://127.0.0.1:${port}`, http }));
    expect(error.code).toBe("network_error");
    expect(error.hint).toBeTruthy();
  });

  it("fails with timeout within timeoutMs when the server never answers", async () => {
    const sockets = new Set<Socket>();
    const silent: TcpServer = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = performance.now();
      const error = await rejection(
        resolveAuthorizationServer({ issuer: `http://127.0.0.1:${port}`, http: { ...http, timeoutMs: 300 } }),
      );
      const elapsed = performance.now() - started;
      expect(error.code).toBe("timeout");
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1_500);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("refuses an http:// issuer unless allowInsecureRequests is set", async () => {
    const error = await rejection(resolveAuthorizationServer({ issuer: provider.issuer }));
    expect(error.code).toBe("invalid_options");
  });
});

describe("authorization code flow with PKCE", () => {
  it("builds an authorization URL with S256, state, scopes and extra parameters", async () => {
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(createProtocolContext(context.as, { clientId: "cli", resource: "https://api.example/" }), pkce, {
      redirectUri: REDIRECT,
      scopes: SCOPES,
      prompt: "consent",
      loginHint: "alice@example.test",
      extraParams: { audience: "x", state: "attacker" },
    });
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toBe(pkce.codeChallenge);
    expect(url.searchParams.get("state")).toBe(pkce.state);
    expect(url.searchParams.get("scope")).toBe(SCOPES.join(" "));
    expect(url.searchParams.get("prompt")).toBe("consent");
    expect(url.searchParams.get("login_hint")).toBe("alice@example.test");
    expect(url.searchParams.get("audience")).toBe("x");
    expect(url.searchParams.getAll("resource")).toEqual(["https://api.example/"]);
    expect(url.searchParams.has("code_verifier")).toBe(false);
  });

  it("exchanges the code for tokens, with ID token claims", async () => {
    const { tokens, claims } = await login();
    expect(tokens.tokenType).toBe("Bearer");
    expect(tokens.accessToken).toBeTruthy();
    expect(tokens.refreshToken).toBeTruthy();
    expect(tokens.idToken).toBeTruthy();
    expect(tokens.expiresAt).toBeGreaterThan(Date.now());
    expect(claims?.sub).toBe("alice");
  });

  it("rejects a wrong code_verifier with invalid_grant", async () => {
    const { pkce, callback } = await codeFlow();
    const params = validateCallback(context, callback, pkce.state);
    const other = await createPkce();
    const error = await rejection(
      exchangeAuthorizationCode(context, params, { redirectUri: REDIRECT, codeVerifier: other.codeVerifier }),
    );
    expect(error.code).toBe("invalid_grant");
    expect(error.message).not.toContain(other.codeVerifier);
    expect(error.message).not.toContain(params.get("code")!);
  });

  it("rejects a callback with another state with state_mismatch", async () => {
    const { callback } = await codeFlow();
    const error = throws(() => validateCallback(context, callback, "some-other-state"));
    expect(error.code).toBe("state_mismatch");
    expect(JSON.stringify(error)).not.toContain(callback.searchParams.get("code")!);
  });

  it("checks the RFC 9207 iss parameter when the server sends it", async () => {
    const { pkce, callback } = await codeFlow();
    expect(callback.searchParams.get("iss")).toBe(provider.issuer);
    callback.searchParams.set("iss", "https://evil.example");
    const error = throws(() => validateCallback(context, callback, pkce.state));
    expect(error.code).toBe("issuer_mismatch");
  });

  it("turns a denied consent into access_denied", async () => {
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(context, pkce, { redirectUri: REDIRECT, scopes: SCOPES });
    const callback = await authorizeWithoutBrowser(url, { deny: true });
    const error = throws(() => validateCallback(context, callback, pkce.state));
    expect(error.code).toBe("access_denied");
  });
});

describe("refreshTokens()", () => {
  it("rotates the refresh token; the old one then fails with invalid_grant", async () => {
    const { tokens } = await login();
    const { tokens: fresh } = await refreshTokens(context, tokens);
    expect(fresh.accessToken).not.toBe(tokens.accessToken);
    expect(fresh.refreshToken).toBeTruthy();
    expect(fresh.refreshToken).not.toBe(tokens.refreshToken);
    const error = await rejection(refreshTokens(context, tokens));
    expect(error.code).toBe("invalid_grant");
    expect(error.message).not.toContain(tokens.refreshToken!);
  });
});

describe("revokeToken()", () => {
  it("makes the refresh token unusable (RFC 7009)", async () => {
    const { tokens } = await login();
    await revokeToken(context, tokens.refreshToken!, { tokenTypeHint: "refresh_token" });
    const error = await rejection(refreshTokens(context, tokens));
    expect(error.code).toBe("invalid_grant");
  });
});

describe("fetchUserInfo()", () => {
  it("returns the user's claims", async () => {
    const { tokens } = await login(context, "bob");
    const user = await fetchUserInfo(context, tokens.accessToken);
    expect(user.sub).toBe("bob");
    expect(user.email).toBe("bob@example.test");
  });

  it("fails with invalid_token for a token the server does not know", async () => {
    const error = await rejection(fetchUserInfo(context, "not-a-token"));
    expect(error.code).toBe("invalid_token");
  });
});

describe("device authorization grant", () => {
  it("polls authorization_pending, then gets tokens after approval", async () => {
    const device = await requestDeviceAuthorization(context, { scopes: SCOPES });
    expect(device.userCode).toBeTruthy();
    expect(device.verificationUri).toBe(`${provider.issuer}/device`);
    expect(device.interval).toBe(1);
    const first = await pollDeviceToken(context, device.deviceCode);
    expect(first.status).toBe("authorization_pending");
    await approveDevice(provider.issuer, device.userCode, { login: "carol" });
    const done = await pollDeviceToken(context, device.deviceCode);
    expect(done.status).toBe("complete");
    if (done.status !== "complete") return;
    expect(done.tokens.accessToken).toBeTruthy();
    expect(done.tokens.refreshToken).toBeTruthy();
    expect(done.claims?.sub).toBe("carol");
  });

  it("ends with access_denied when the user declines", async () => {
    const device = await requestDeviceAuthorization(context, { scopes: SCOPES });
    await approveDevice(provider.issuer, device.userCode, { deny: true });
    const error = await rejection(pollDeviceToken(context, device.deviceCode));
    expect(error.code).toBe("access_denied");
  });

  it("gives unsupported_flow when the server has no device endpoint", async () => {
    const { device_authorization_endpoint: _, ...as } = context.as;
    const error = await rejection(requestDeviceAuthorization(createProtocolContext(as, { clientId: "cli", http })));
    expect(error.code).toBe("unsupported_flow");
    expect(error.hint).toMatch(/browser/);
  });
});
