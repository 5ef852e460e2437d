// Protected-resource metadata (RFC 9728) as oauth4webapi's resourceDiscoveryRequest() / processResourceDiscoveryResponse()
// read it, and a resource server on loopback that uses the library's own verifier: a client that knows only the
// API's URL gets a 401 naming the metadata, finds the provider there, signs in for that resource with DPoP, and is
// let in.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oauth from "oauth4webapi";
import { resolveAuthorizationServer } from "../../src/mod.ts";
import {
  createVerifier,
  identityHandler,
  resourceMetadataHandler,
  type ResourceMetadataOptions,
  resourceMetadataUrl,
} from "../../server/mod.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { runtimeKey } from "../support/runtime.ts";
import { dpopKeyPair } from "./support/dpop.ts";
import { serve, type Served } from "./support/serve.ts";
import { http, issueTokens } from "./support/tokens.ts";

const ISSUER = "https://auth.example.test";

/** What oauth4webapi's resourceDiscoveryRequest() asks for, answered by `handler` without a network. */
async function discover(resource: string, handler: (request: Request) => Response): Promise<{ url: string; metadata: oauth.ResourceServer }> {
  let url = "";
  const response = await oauth.resourceDiscoveryRequest(new URL(resource), {
    [oauth.customFetch]: (input, init) => {
      url = input;
      return Promise.resolve(handler(new Request(input, init as RequestInit)));
    },
  });
  return { url, metadata: await oauth.processResourceDiscoveryResponse(new URL(resource), response) };
}

describe("resourceMetadataUrl()", () => {
  it("puts the well-known path between host and path (RFC 9728 §3.1), as oauth4webapi expects", async () => {
    const cases: [string, string][] = [
      ["https://api.example.test/", "https://api.example.test/.well-known/oauth-protected-resource"],
      ["https://api.example.test", "https://api.example.test/.well-known/oauth-protected-resource"],
      ["https://example.test/api/v1", "https://example.test/.well-known/oauth-protected-resource/api/v1"],
      ["https://example.test/api/v1/", "https://example.test/.well-known/oauth-protected-resource/api/v1/"],
      ["https://example.test:8443/mcp", "https://example.test:8443/.well-known/oauth-protected-resource/mcp"],
      ["http://127.0.0.1:8080/", "http://127.0.0.1:8080/.well-known/oauth-protected-resource"],
    ];
    for (const [resource, expected] of cases) {
      expect(resourceMetadataUrl(resource), resource).toBe(expected);
      let asked = "";
      await oauth.resourceDiscoveryRequest(new URL(resource), {
        [oauth.allowInsecureRequests]: true,
        [oauth.customFetch]: (url) => ((asked = url), Promise.resolve(new Response("{}"))),
      });
      expect(asked, resource).toBe(expected);
    }
  });

  it("refuses what is not an https URL without fragment", () => {
    for (const resource of ["", "api.example.test", "http://api.example.test/", "https://api.example.test/#x", "urn:x:y", "ftp://a/"]) {
      expect(() => resourceMetadataUrl(resource), resource).toThrow(expect.objectContaining({ code: "invalid_options" }));
    }
  });
});

describe("resourceMetadataHandler()", () => {
  const options: ResourceMetadataOptions = {
    resource: "https://api.example.test/",
    authorizationServers: [ISSUER],
    scopesSupported: ["api:read", "api:write"],
    dpopSigningAlgValuesSupported: ["ES256", "EdDSA"],
    dpopBoundAccessTokensRequired: true,
    resourceName: "Example API",
    resourceDocumentation: "https://docs.example.test/api",
  };

  it("serves JSON that processResourceDiscoveryResponse() accepts, with the RFC 9728 member names", async () => {
    const { url, metadata } = await discover(options.resource, resourceMetadataHandler(options));
    expect(url).toBe("https://api.example.test/.well-known/oauth-protected-resource");
    expect(metadata).toEqual({
      resource: "https://api.example.test/",
      authorization_servers: [ISSUER],
      bearer_methods_supported: ["header"],
      scopes_supported: ["api:read", "api:write"],
      dpop_signing_alg_values_supported: ["ES256", "EdDSA"],
      dpop_bound_access_tokens_required: true,
      resource_name: "Example API",
      resource_documentation: "https://docs.example.test/api",
    });
  });

  it("is path-aware: a resource with a path is served at its own well-known URL", async () => {
    for (const resource of ["https://example.test/api/v1", "https://example.test/api/v1/", "https://example.test/mcp"]) {
      const handler = resourceMetadataHandler({ resource, authorizationServers: [ISSUER] });
      const { metadata } = await discover(resource, handler);
      expect(metadata.resource).toBe(resource);
      // Another resource's well-known URL on the same host is not this one's.
      expect(handler(new Request("https://example.test/.well-known/oauth-protected-resource")).status).toBe(404);
    }
  });

  it("answers the headers a public document needs, HEAD without a body, 405 to other methods, 404 elsewhere", async () => {
    const handler = resourceMetadataHandler(options);
    const url = resourceMetadataUrl(options.resource);
    const response = handler(new Request(url));
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("cache-control")).toMatch(/max-age=/);
    const head = handler(new Request(url, { method: "HEAD" }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = handler(new Request(url, { method: "POST", body: "{}" }));
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(handler(new Request("https://api.example.test/me")).status).toBe(404);
  });

  it("keeps its own members over additionalMetadata", async () => {
    const handler = resourceMetadataHandler({
      ...options,
      additionalMetadata: { resource: "https://evil.example.test/", x_extension: 1 },
    });
    const { metadata } = await discover(options.resource, handler);
    expect(metadata.resource).toBe(options.resource);
    expect(metadata.x_extension).toBe(1);
  });

  it("refuses bad options with invalid_options", () => {
    const bad: Partial<ResourceMetadataOptions>[] = [
      { authorizationServers: [] },
      { authorizationServers: "https://auth.example.test" as unknown as string[] },
      { authorizationServers: ["not a url"] },
      { authorizationServers: ["http://auth.example.test"] },
      { resource: "https://api.example.test/#frag" },
      { dpopSigningAlgValuesSupported: ["HS256" as "ES256"] },
    ];
    for (const override of bad) {
      expect(() => resourceMetadataHandler({ ...options, ...override }), JSON.stringify(override)).toThrow(
        expect.objectContaining({ code: "invalid_options" }),
      );
    }
  });
});

describe(`a resource server on a real ${runtimeKey()} server on loopback, known to the client only by its URL`, () => {
  let provider: TestProvider;
  let served: Served;
  let resource: string;
  let handler: (request: Request) => Response | Promise<Response>;

  beforeAll(async () => {
    // The resource's URL names its port, which the provider must know as a resource indicator: listen first.
    served = await serve((request) => Promise.resolve(handler(request)));
    resource = `${served.url}/api/`;
    provider = await startProvider({ dpop: true, resources: { [resource]: { format: "jwt" } } });
    const verifier = createVerifier({ issuer: provider.issuer, audience: resource, http, dpop: { algorithms: ["ES256"] } });
    const metadata = resourceMetadataHandler({
      resource,
      authorizationServers: [provider.issuer],
      scopesSupported: ["api:read"],
      dpopSigningAlgValuesSupported: ["ES256"],
    });
    const me = identityHandler(verifier, { resourceMetadata: resourceMetadataUrl(resource) });
    handler = (request) => {
      const { pathname } = new URL(request.url);
      if (pathname.startsWith("/.well-known/oauth-protected-resource")) return metadata(request);
      if (pathname === "/api/me") return me(request);
      return new Response("Not found", { status: 404 });
    };
  });
  afterAll(async () => {
    await served?.close();
    await provider?.close();
  });

  it("leads from a 401 to the authorization server, and lets in the token obtained there", async () => {
    const options = { [oauth.allowInsecureRequests]: true };
    // 1. The API, called without a token, names its metadata in the challenge (RFC 9728 §5.1).
    const unauthorized = await fetch(`${resource}me`);
    expect(unauthorized.status).toBe(401);
    const first = await oauth.protectedResourceRequest("-", "GET", new URL(`${resource}me`), new Headers(), null, {
      ...options,
      [oauth.customFetch]: () => Promise.resolve(unauthorized),
    }).then(() => undefined, (error: unknown) => error);
    expect(first).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const challenges = (first as oauth.WWWAuthenticateChallengeError).cause;
    const announced = challenges.find((c) => c.scheme === "bearer")?.parameters.resource_metadata;
    expect(announced).toBe(`${served.url}/.well-known/oauth-protected-resource/api/`);
    expect(challenges.find((c) => c.scheme === "dpop")?.parameters.resource_metadata).toBe(announced);

    // 2. The metadata passes oauth4webapi's checks and names the provider.
    const response = await oauth.resourceDiscoveryRequest(new URL(resource), options);
    const metadata = await oauth.processResourceDiscoveryResponse(new URL(resource), response);
    expect(metadata.authorization_servers).toEqual([provider.issuer]);
    expect(metadata.dpop_signing_alg_values_supported).toEqual(["ES256"]);
    const as = await resolveAuthorizationServer({ issuer: metadata.authorization_servers![0]!, http });
    expect(as.issuer).toBe(provider.issuer);

    // 3. A DPoP-bound token for that resource is accepted by the API.
    const keyPair = await dpopKeyPair();
    const tokens = await issueTokens(provider.issuer, { resource, dpop: keyPair, login: "dave" });
    const answer = await oauth.protectedResourceRequest(tokens.accessToken, "GET", new URL(`${resource}me`), new Headers(), null, {
      ...options,
      DPoP: oauth.DPoP({}, keyPair),
    });
    const identity = await answer.json();
    expect(identity.subject).toBe("dave");
    expect(identity.claims.aud).toBe(resource);
  });
});
