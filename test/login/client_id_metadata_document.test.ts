// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document) against the real provider with
// features.clientIdMetadataDocument (the rig: documents served over HTTPS with a test CA the provider trusts, and
// counted). An https URL as `clientId` signs in with no registration, the provider fetching the document; in sign-in
// from a resource URL, `clientMetadataUrl` is the client ID when the server announces
// client_id_metadata_document_supported, and RFC 7591 registration (reused from the store) happens otherwise.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth, type CliAuthOptions } from "../../mod.ts";
import { type ClientMetadataServer, CLI_CLIENT_METADATA, startClientMetadataServer } from "../support/client_metadata_server.ts";
import { approveDevice } from "../support/interact.ts";
import { countingStore } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { type ResourceServer, startResourceServer } from "../support/resource_server.ts";
import { createTestCa, type TestCa } from "../support/test_ca.ts";

let ca: TestCa;
let documents: ClientMetadataServer;
/** Supports metadata documents (and registration). */
let cimd: TestProvider;
/** Supports registration only. */
let registrationOnly: TestProvider;
let cimdApi: ResourceServer;
let registrationApi: ResourceServer;

beforeAll(async () => {
  ca = createTestCa(["localhost"]);
  [documents, cimdApi, registrationApi] = await Promise.all([
    startClientMetadataServer({
      ca,
      documents: {
        "/cli.json": { ...CLI_CLIENT_METADATA },
        "/resource-cli.json": { ...CLI_CLIENT_METADATA },
        "/fallback-cli.json": { ...CLI_CLIENT_METADATA },
      },
    }),
    startResourceServer(),
    startResourceServer(),
  ]);
  [cimd, registrationOnly] = await Promise.all([
    startProvider({
      clientIdMetadataDocument: true,
      registration: true,
      extraCaFile: ca.caFile,
      deviceInterval: 1,
      resources: { [cimdApi.resource]: { format: "jwt", scope: "api:read" } },
    }),
    startProvider({ registration: true, deviceInterval: 1, resources: { [registrationApi.resource]: { format: "jwt", scope: "api:read" } } }),
  ]);
  cimdApi.trust(cimd.issuer);
  registrationApi.trust(registrationOnly.issuer);
});
afterAll(async () => {
  await Promise.all([cimd?.close(), registrationOnly?.close(), cimdApi?.close(), registrationApi?.close(), documents?.close()]);
  ca?.remove();
});

async function registrations(provider: TestProvider) {
  return (await provider.requests()).filter((r) => r.method === "POST" && r.path === "/reg");
}

function newAuth(options: Partial<CliAuthOptions>, store = countingStore()) {
  const auth = new CliAuth({ service: "cimd-test", storage: store, allowInsecureRequests: true, scopes: ["openid", "offline_access", "api:read"], ...options });
  return { auth, store };
}

function deviceLogin(auth: CliAuth, issuer: string) {
  return auth.login({
    flow: "device",
    openBrowser: false,
    onDeviceCode: (info) => void approveDevice(issuer, info.userCode, { login: "erin" }).catch(() => {}),
  });
}

describe("clientId as an https URL (a client ID metadata document)", () => {
  it("signs in with the device flow without registering; the provider fetched the document; refresh works", async () => {
    const clientId = documents.url("/cli.json");
    await cimd.reset();
    const { auth } = newAuth({ issuer: cimd.issuer, clientId });
    const result = await deviceLogin(auth, cimd.issuer);
    expect(result.user?.sub).toBe("erin");
    expect(documents.fetches("/cli.json")).toBe(1);
    expect(await registrations(cimd)).toEqual([]);
    expect((await auth.getSession())?.clientId).toBe(clientId);

    const refreshed = await auth.getAccessToken({ forceRefresh: true });
    expect(refreshed).not.toBe(result.tokens.accessToken);
    expect(await cimd.tokenRequests("refresh_token")).toHaveLength(1);
  });
});

describe("clientMetadataUrl in sign-in from a resource URL", () => {
  it("is the client ID when the server supports metadata documents: nothing is registered", async () => {
    const clientMetadataUrl = documents.url("/resource-cli.json");
    await cimd.reset();
    const { auth } = newAuth({ resource: cimdApi.resource, clientMetadataUrl });
    await deviceLogin(auth, cimd.issuer);
    expect(await registrations(cimd)).toEqual([]);
    expect(documents.fetches("/resource-cli.json")).toBe(1);
    expect((await auth.getSession())?.clientId).toBe(clientMetadataUrl);
    const response = await auth.fetch(`${cimdApi.origin}/api/me`);
    expect(response.status).toBe(200);
  });

  it("falls back to registration when the server does not support them, and reuses the registered client", async () => {
    const clientMetadataUrl = documents.url("/fallback-cli.json");
    await registrationOnly.reset();
    const store = countingStore();
    const first = newAuth({ resource: registrationApi.resource, clientMetadataUrl }, store).auth;
    await deviceLogin(first, registrationOnly.issuer);
    expect(await registrations(registrationOnly)).toHaveLength(1);
    const registered = (await first.getSession())?.clientId;
    expect(registered).toBeTruthy();
    expect(registered).not.toBe(clientMetadataUrl);

    const second = newAuth({ resource: registrationApi.resource, clientMetadataUrl }, store).auth;
    await deviceLogin(second, registrationOnly.issuer);
    expect(await registrations(registrationOnly)).toHaveLength(1);
    expect((await second.getSession())?.clientId).toBe(registered);
    expect(documents.fetches("/fallback-cli.json")).toBe(0);
  });
});
