// Step-up (RFC 9470) against the real provider (oidc-provider with acrValues, the test rig's opt-in): an API built
// with this library's verifier (test/support/resource_server.ts, route /api/step-up) refuses a token from a login
// that did not reach the acr it demands, with the challenge a client acts on, and lets in the token of a login that
// asked for it (acr_values); likewise for opaque tokens by introspection, for the device flow, and not for a server
// that ignores acr_values. The logins are driven by the scripted user with the library's protocol functions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createProtocolContext,
  pollDeviceToken,
  requestDeviceAuthorization,
  resolveAuthorizationServer,
  type TokenSet,
} from "../../src/mod.ts";
import { createVerifier, resourceMetadataUrl } from "../../server/mod.ts";
import { approveDevice } from "../support/interact.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { rejection } from "../support/reject.ts";
import { type ResourceServer, startResourceServer } from "../support/resource_server.ts";
import { allChallenges } from "./support/challenges.ts";
import { http, introspection, issueTokens } from "./support/tokens.ts";

const PWD = "urn:test:pwd";
const MFA = "urn:test:mfa";
const OPAQUE_API = "urn:example:opaque-step-up";

let api: ResourceServer;
let provider: TestProvider;
/** A provider that lists the same acr values but ignores acr_values: every login is password-only. */
let ignoring: TestProvider;

beforeAll(async () => {
  api = await startResourceServer({ stepUp: { acrValues: [MFA] } });
  const resources = { [api.resource]: { format: "jwt" as const }, [OPAQUE_API]: { format: "opaque" as const } };
  [provider, ignoring] = await Promise.all([
    startProvider({ acrValues: [PWD, MFA], resources }),
    startProvider({ acrValues: [PWD, MFA], ignoreAcrValues: true, resources }),
  ]);
  api.trust(provider.issuer);
});
afterAll(async () => {
  await Promise.all([api?.close(), provider?.close(), ignoring?.close()]);
});

const claimsOf = (jwt: string) => JSON.parse(atob(jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
const stepUpRoute = (tokens: TokenSet) =>
  fetch(`${api.origin}/api/step-up`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });

describe("the provider with acrValues (test rig)", () => {
  it("lists them as acr_values_supported", async () => {
    const as = await resolveAuthorizationServer({ issuer: provider.issuer, http });
    expect(as.acr_values_supported).toEqual([PWD, MFA]);
  });

  it("completes a login with the acr that acr_values asked for, else the first; JWT access tokens carry acr and auth_time", async () => {
    const before = Math.floor(Date.now() / 1000) - 1;
    const [plain, stepped] = await Promise.all([
      issueTokens(provider.issuer, { resource: api.resource }),
      issueTokens(provider.issuer, { resource: api.resource, extraParams: { acr_values: `urn:test:unknown ${MFA}` } }),
    ]);
    expect(claimsOf(plain.accessToken)).toMatchObject({ acr: PWD, aud: api.resource });
    expect(claimsOf(stepped.accessToken).acr).toBe(MFA);
    expect(claimsOf(stepped.idToken!).acr).toBe(MFA);
    for (const tokens of [plain, stepped]) {
      expect(claimsOf(tokens.accessToken).auth_time).toBeGreaterThanOrEqual(before);
      expect(claimsOf(tokens.accessToken).auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    }
  });
});

describe("an API built with createVerifier() that demands acr urn:test:mfa", () => {
  it("answers a password-only login with the step-up challenge, and lets in a login that asked for MFA", async () => {
    const plain = await issueTokens(provider.issuer, { resource: api.resource });
    const refused = await stepUpRoute(plain);
    expect(refused.status).toBe(401);
    const [challenge] = await allChallenges(refused);
    expect(challenge).toMatchObject({
      scheme: "bearer",
      parameters: {
        error: "insufficient_user_authentication",
        acr_values: MFA,
        resource_metadata: resourceMetadataUrl(api.resource),
      },
    });

    const stepped = await issueTokens(provider.issuer, { resource: api.resource, extraParams: { acr_values: MFA } });
    const admitted = await stepUpRoute(stepped);
    expect(admitted.status).toBe(200);
    expect(await admitted.json()).toMatchObject({ subject: "alice", acr: MFA });
  });

  it("refuses the token of a server that ignored acr_values, though the login asked for MFA", async () => {
    const ignored = await issueTokens(ignoring.issuer, { resource: api.resource, extraParams: { acr_values: MFA } });
    expect(claimsOf(ignored.accessToken).acr).toBe(PWD);
    const verifier = createVerifier({ issuer: ignoring.issuer, audience: api.resource, http });
    const error = await rejection(verifier.verifyToken(ignored.accessToken, { acrValues: [MFA] }));
    expect(error.code).toBe("insufficient_user_authentication");
  });

  it("checks opaque tokens the same way: introspection answers carry acr and auth_time", async () => {
    const [plain, stepped] = await Promise.all([
      issueTokens(provider.issuer, { resource: OPAQUE_API, login: "bob" }),
      issueTokens(provider.issuer, { resource: OPAQUE_API, login: "bob", extraParams: { acr_values: MFA } }),
    ]);
    const verifier = createVerifier({ issuer: provider.issuer, audience: OPAQUE_API, http, introspection });
    const refused = await rejection(verifier.verifyToken(plain.accessToken, { acrValues: [MFA] }));
    expect(refused.code).toBe("insufficient_user_authentication");
    const verified = await verifier.verifyToken(stepped.accessToken, { acrValues: [MFA], maxAge: 300 });
    expect(verified.type).toBe("opaque");
    expect(verified.claims.acr).toBe(MFA);

    // The same token, judged ten minutes later by an API that wants a sign-in within the last five.
    const authTime = verified.claims.auth_time as number;
    const later = createVerifier({
      issuer: provider.issuer,
      audience: OPAQUE_API,
      http,
      introspection,
      now: () => (authTime + 600) * 1000,
    });
    const stale = await rejection(later.verifyToken(stepped.accessToken, { acrValues: [MFA], maxAge: 300 }));
    expect(stale.code).toBe("insufficient_user_authentication");
    expect(stale.errorDescription).toMatch(/more recent/i);
  });

  it("accepts acr_values on the device authorization request: the device login completes with that acr", async () => {
    const as = await resolveAuthorizationServer({ issuer: provider.issuer, http });
    const context = createProtocolContext(as, { clientId: "cli", http, resource: api.resource });
    const device = await requestDeviceAuthorization(context, { scopes: ["openid", "api:read"], extraParams: { acr_values: MFA } });
    await approveDevice(provider.issuer, device.userCode, { login: "dave" });
    const result = await pollDeviceToken(context, device.deviceCode);
    if (result.status !== "complete") throw new Error(`device poll: ${result.status}`);
    expect(claimsOf(result.tokens.accessToken).acr).toBe(MFA);
    const admitted = await stepUpRoute(result.tokens);
    expect(admitted.status).toBe(200);
    expect(await admitted.json()).toMatchObject({ subject: "dave", acr: MFA });
  });
});
