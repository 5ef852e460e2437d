// identityHandler() through real Request objects and through a real server of the runtime running the test, with
// tokens from the real provider.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oauth from "oauth4webapi";
import type { TokenSet } from "../../mod.ts";
import {
  bearerChallenge,
  CliAuthError,
  createPersonalAccessToken,
  createVerifier,
  identityHandler,
  type Verifier,
} from "../../server/mod.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { runtimeKey } from "../support/runtime.ts";
import { allChallenges } from "./support/challenges.ts";
import { serve, type Served } from "./support/serve.ts";
import { http, issueTokens } from "./support/tokens.ts";

const API = "https://api.example.test/";
let provider: TestProvider;
let tokens: TokenSet;
let verifier: Verifier;
let pat: string;

beforeAll(async () => {
  provider = await startProvider({ resources: { [API]: { format: "jwt" } } });
  tokens = await issueTokens(provider.issuer, { resource: API, login: "carol" });
  const created = await createPersonalAccessToken({ prefix: "test_pat" });
  pat = created.token;
  verifier = createVerifier({
    issuer: provider.issuer,
    audience: API,
    http,
    personalAccessTokens: {
      prefix: "test_pat",
      lookup: (hash) =>
        Promise.resolve(hash === created.hash ? { subject: "ci-bot", scopes: ["deploy"], claims: { name: "ci" } } : null),
    },
  });
});
afterAll(async () => {
  await provider?.close();
});

const me = (authorization?: string, init: RequestInit = {}) =>
  new Request("https://api.example.test/me", {
    ...init,
    headers: authorization === undefined ? {} : { authorization },
  });

/** The Bearer challenge of a verifier's 401/403, checking that the DPoP challenge beside it names the algorithms. */
async function challenges(response: Response): Promise<oauth.WWWAuthenticateChallenge> {
  const parsed = await allChallenges(response);
  expect(parsed.map((c) => c.scheme)).toEqual(["bearer", "dpop"]);
  expect(parsed[1]!.parameters.algs).toBe(ALGS);
  return parsed[0]!;
}

const ALGS = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519";

describe("identityHandler() with Request objects", () => {
  it("answers 200 with subject, type, scopes and claims for a valid token", async () => {
    const response = await identityHandler(verifier)(me(`Bearer ${tokens.accessToken}`));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = await response.json();
    expect(body.subject).toBe("carol");
    expect(body.type).toBe("jwt");
    expect(body.scopes).toEqual(["api:read"]);
    expect(body.claims.aud).toBe(API);
    expect(Object.keys(body).sort()).toEqual(["claims", "scopes", "subject", "type"]);
  });

  it("answers 200 for a personal access token", async () => {
    const response = await identityHandler(verifier)(me(`Bearer ${pat}`));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ subject: "ci-bot", type: "pat", scopes: ["deploy"], claims: { name: "ci", sub: "ci-bot" } });
  });

  it('answers 401 with WWW-Authenticate: Bearer error="invalid_token" for a bad token', async () => {
    const [header, payload] = tokens.accessToken.split(".");
    const response = await identityHandler(verifier)(me(`Bearer ${header}.${payload}.AAAA`));
    expect(response.status).toBe(401);
    const challenge = await challenges(response);
    expect(challenge.scheme).toBe("bearer");
    expect(challenge.parameters.error).toBe("invalid_token");
    expect(challenge.parameters.error_description).toMatch(/signature/);
    expect((await response.json()).error).toBe("invalid_token");
  });

  it("answers 401 with a bare Bearer challenge when there is no token or another scheme (RFC 6750 §3.1)", async () => {
    for (const authorization of [undefined, "Basic YWxpY2U6c2VjcmV0"]) {
      const response = await identityHandler(verifier, { realm: "api" })(me(authorization));
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe(`Bearer realm="api", DPoP realm="api", algs="${ALGS}"`);
      expect(await response.json()).toEqual({
        error_description: authorization ? "The Authorization header does not use the Bearer scheme" : "The request carries no access token",
      });
    }
  });

  it("answers 401 invalid_token for garbled headers", async () => {
    for (const authorization of ["Bearer", "Bearer a b", "Bearer ä", "Bearer a,b", `Bearer ${"a".repeat(20_000)}`]) {
      const response = await identityHandler(verifier)(me(authorization));
      expect(response.status, authorization).toBe(401);
      expect((await challenges(response)).parameters.error).toBe("invalid_token");
    }
  });

  it("answers 403 insufficient_scope with the scopes required", async () => {
    const response = await identityHandler(verifier, { scopes: ["api:read", "api:admin"] })(me(`Bearer ${tokens.accessToken}`));
    expect(response.status).toBe(403);
    const challenge = await challenges(response);
    expect(challenge.parameters.error).toBe("insufficient_scope");
    expect(challenge.parameters.scope).toBe("api:read api:admin");
  });

  it("adds the RFC 9728 resource_metadata parameter when given", async () => {
    const resourceMetadata = "https://api.example.test/.well-known/oauth-protected-resource";
    const response = await identityHandler(verifier, { resourceMetadata })(me("Bearer nope.nope.nope"));
    expect((await challenges(response)).parameters.resource_metadata).toBe(resourceMetadata);
  });

  it("answers 503 when the issuer cannot be reached, and reports the error", async () => {
    const down = () => Promise.reject(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") }));
    const unreachable = createVerifier({ issuer: provider.issuer, audience: API, http: { ...http, fetch: down } });
    const seen: CliAuthError[] = [];
    const response = await identityHandler(unreachable, { onError: (error) => seen.push(error) })(
      me(`Bearer ${tokens.accessToken}`),
    );
    expect(response.status).toBe(503);
    expect(response.headers.get("www-authenticate")).toBeNull();
    expect(response.headers.get("retry-after")).toBe("5");
    expect(seen.map((e) => e.code)).toEqual(["network_error"]);
  });

  it("answers 405 to methods other than GET and HEAD", async () => {
    const response = await identityHandler(verifier)(me(`Bearer ${tokens.accessToken}`, { method: "POST" }));
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });
});

describe("bearerChallenge()", () => {
  it("keeps the header well-formed whatever the description holds", async () => {
    const error = new CliAuthError("invalid_token", "x", {
      error: "invalid_token",
      errorDescription: 'a "quoted" \\ back\nslash é',
    });
    const value = bearerChallenge(error, { realm: 'r"e\\alm' })!;
    expect(value).toBe('Bearer realm="r\\"e\\\\alm", error="invalid_token", error_description="a \'quoted\' / back?slash ?"');
    const [challenge] = await allChallenges(new Response(null, { status: 401, headers: { "www-authenticate": value } }));
    expect(challenge!.parameters.realm).toBe('r"e\\alm');
    expect(challenge!.parameters.error_description).toBe("a 'quoted' / back?slash ?");
  });

  it("gives nothing for errors that are not about the token", () => {
    expect(bearerChallenge(new CliAuthError("network_error", "down"))).toBeUndefined();
  });
});

describe(`identityHandler() on a real ${runtimeKey()} server on loopback`, () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve(identityHandler(verifier, { realm: "api" }));
  });
  afterAll(async () => {
    await served?.close();
  });

  it("uses the runtime's own server", () => {
    expect(served.runtime).toBe(runtimeKey());
  });

  it("answers 200 with the identity over HTTP", async () => {
    const response = await fetch(`${served.url}/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = await response.json();
    expect(body.subject).toBe("carol");
    expect(body.type).toBe("jwt");
  });

  it("answers 401 with a parseable challenge over HTTP", async () => {
    const response = await fetch(`${served.url}/me`, { headers: { authorization: "Bearer not-a-jwt.at-all.x" } });
    expect(response.status).toBe(401);
    const challenge = await challenges(response);
    expect(challenge.parameters.realm).toBe("api");
    expect(challenge.parameters.error).toBe("invalid_token");
    await response.body?.cancel();
  });

  it("answers 401 without credentials over HTTP", async () => {
    const response = await fetch(`${served.url}/me`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(`Bearer realm="api", DPoP realm="api", algs="${ALGS}"`);
    await response.body?.cancel();
  });

  it("is what the CLI's identityEndpoint calls: a Bearer GET with the token", async () => {
    const response = await oauth.protectedResourceRequest(tokens.accessToken, "GET", new URL(`${served.url}/me`), new Headers(), null, {
      [oauth.allowInsecureRequests]: true,
    });
    expect((await response.json()).subject).toBe("carol");
  });
});
