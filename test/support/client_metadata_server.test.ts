// The Client ID Metadata Document rig works: a document served over HTTPS (test CA) on loopback, and the real
// provider with features.clientIdMetadataDocument trusting that CA, fetches it when it meets the URL as a client ID,
// keeps it, and completes a code flow and a device authorization for that client; a provider without the feature
// (registration on instead) neither announces it nor fetches anything.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildAuthorizationUrl,
  createPkce,
  createProtocolContext,
  exchangeAuthorizationCode,
  requestDeviceAuthorization,
  resolveAuthorizationServer,
  validateCallback,
} from "../../src/mod.ts";
import { type ClientMetadataServer, CLI_CLIENT_METADATA, startClientMetadataServer } from "./client_metadata_server.ts";
import { authorizeWithoutBrowser, ScriptedUser } from "./interact.ts";
import { startProvider, type TestProvider } from "./provider.ts";
import { createTestCa, type TestCa } from "./test_ca.ts";

const http = { allowInsecureRequests: true, timeoutMs: 10_000 };
const REDIRECT = "http://127.0.0.1:41113/callback";

let ca: TestCa;
let documents: ClientMetadataServer;
let cimd: TestProvider;
let registrationOnly: TestProvider;

beforeAll(async () => {
  ca = createTestCa(["localhost"]);
  documents = await startClientMetadataServer({
    ca,
    documents: {
      "/code.json": { ...CLI_CLIENT_METADATA },
      "/device.json": { ...CLI_CLIENT_METADATA },
      "/unused.json": { ...CLI_CLIENT_METADATA },
      "/wrong.json": { ...CLI_CLIENT_METADATA, client_id: "https://cli.example.test/oauth/client.json" },
    },
  });
  [cimd, registrationOnly] = await Promise.all([
    startProvider({ clientIdMetadataDocument: true, registration: true, extraCaFile: ca.caFile }),
    startProvider({ registration: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([cimd?.close(), registrationOnly?.close(), documents?.close()]);
  ca?.remove();
});

/** Runs the scripted user through an authorization request for `clientId`; the provider's answer when it refuses. */
async function authorize(issuer: string, clientId: string) {
  const as = await resolveAuthorizationServer({ issuer, http });
  const context = createProtocolContext(as, { clientId, http });
  const pkce = await createPkce();
  const url = buildAuthorizationUrl(context, pkce, { redirectUri: REDIRECT, scopes: ["openid"] });
  return { context, pkce, url };
}

describe("the provider with clientIdMetadataDocument (test rig)", () => {
  it("announces client_id_metadata_document_supported; the provider without it does not, but registers", async () => {
    const [on, off] = await Promise.all([
      resolveAuthorizationServer({ issuer: cimd.issuer, http }),
      resolveAuthorizationServer({ issuer: registrationOnly.issuer, http }),
    ]);
    expect(on.client_id_metadata_document_supported).toBe(true);
    expect(off.client_id_metadata_document_supported).toBeUndefined();
    expect(off.registration_endpoint).toBeDefined();
  });

  it("accepts the document's URL as client_id after fetching it once, and issues tokens to that client", async () => {
    const clientId = documents.url("/code.json");
    expect(documents.fetches("/code.json")).toBe(0);
    const { context, pkce, url } = await authorize(cimd.issuer, clientId);
    const callback = await authorizeWithoutBrowser(url);
    expect(documents.fetches("/code.json")).toBe(1);
    const params = validateCallback(context, callback, pkce.state);
    const { tokens, claims } = await exchangeAuthorizationCode(context, params, { redirectUri: REDIRECT, codeVerifier: pkce.codeVerifier });
    expect(tokens.accessToken).toBeTruthy();
    expect(claims?.aud).toBe(clientId);
    // A second login within the cache time (at least 30 s) fetches nothing.
    const again = await authorize(cimd.issuer, clientId);
    await authorizeWithoutBrowser(again.url);
    expect(documents.fetches("/code.json")).toBe(1);
  });

  it("accepts the URL as client_id on the device authorization request", async () => {
    const as = await resolveAuthorizationServer({ issuer: cimd.issuer, http });
    const device = await requestDeviceAuthorization(createProtocolContext(as, { clientId: documents.url("/device.json"), http }), {
      scopes: ["openid"],
    });
    expect(device.userCode).toBeTruthy();
    expect(documents.fetches("/device.json")).toBe(1);
  });

  it("refuses a document whose client_id is not its URL", async () => {
    const { url } = await authorize(cimd.issuer, documents.url("/wrong.json"));
    const { page } = await new ScriptedUser().run(url).catch((error: Error) => ({ page: error.message }));
    expect(page).toMatch(/invalid_client_metadata/);
    expect(page).toMatch(/client_id does not match/);
  });

  it("without the feature, the URL is an unknown client and nothing is fetched", async () => {
    const { url } = await authorize(registrationOnly.issuer, documents.url("/unused.json"));
    const { page } = await new ScriptedUser().run(url).catch((error: Error) => ({ page: error.message }));
    expect(page).toMatch(/invalid_client/);
    expect(documents.fetches("/unused.json")).toBe(0);
  });
});
