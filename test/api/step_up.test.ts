// Step-up authentication (RFC 9470) from the CLI's side, against the real provider (acrValues on: a login completes
// with the acr that acr_values asked for) and APIs built with this library's verifier (/api/step-up demands acr
// urn:test:mfa; a second API also demands max_age=0). auth.fetch turns the step-up challenge (Bearer or DPoP scheme)
// into step_up_required without a refresh or a retry; login({ acrValues, maxAge }) asks for the stronger sign-in
// (browser and device flows), checks what the ID token says came of it, and replaces the session; a server that
// ignores acr_values fails the login and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform } from "../../adapters/mod.ts";
import { CliAuth, type CliAuthOptions, type LoginOptions } from "../../mod.ts";
import { approveDevice, authorizeWithoutBrowser } from "../support/interact.ts";
import { countingStore, testOptions } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { rejection } from "../support/reject.ts";
import { type ResourceServer, startResourceServer } from "../support/resource_server.ts";

const PWD = "urn:test:pwd";
const MFA = "urn:test:mfa";
const REFRESH = "refresh_token";

let provider: TestProvider;
/** Lists the same acr values, but every login completes with urn:test:pwd whatever acr_values asked. */
let ignoring: TestProvider;
/** /api/step-up demands acr urn:test:mfa (the rig's default). */
let api: ResourceServer;
/** /api/step-up demands acr urn:test:mfa and a sign-in within the last 0 s (max_age=0, with the verifier's tolerance). */
let recentApi: ResourceServer;

beforeAll(async () => {
  [api, recentApi] = await Promise.all([startResourceServer(), startResourceServer({ stepUp: { acrValues: [MFA], maxAge: 0 } })]);
  const resources = { [api.resource]: { format: "jwt" as const, scope: "api:read" }, [recentApi.resource]: { format: "jwt" as const, scope: "api:read" } };
  [provider, ignoring] = await Promise.all([
    startProvider({ acrValues: [PWD, MFA], resources, dpop: true, deviceInterval: 1 }),
    startProvider({ acrValues: [PWD, MFA], ignoreAcrValues: true, resources, deviceInterval: 1 }),
  ]);
  api.trust(provider.issuer);
  recentApi.trust(provider.issuer);
});
afterAll(async () => {
  await Promise.all([provider?.close(), ignoring?.close(), api?.close(), recentApi?.close()]);
});

function newAuth(resource: string, extra: Partial<CliAuthOptions> = {}, issuer = provider.issuer) {
  const store = countingStore();
  const auth = new CliAuth(
    testOptions(issuer, { storage: store, resource, scopes: ["openid", "offline_access", "api:read"], loginCommand: "my-cli login", ...extra }),
  );
  return { auth, store };
}

/** A browser login completed by the scripted user; the authorization URL it was sent to. */
async function browserLogin(auth: CliAuth, options: LoginOptions = {}) {
  let authorizationUrl: URL | undefined;
  const result = await auth.login({
    flow: "browser",
    onAuthorizationUrl: () => {},
    openBrowser: async (url) => {
      authorizationUrl = new URL(url);
      const callback = await authorizeWithoutBrowser(url, { login: "alice" });
      await (await fetch(callback)).text();
    },
    ...options,
  });
  return { result, authorizationUrl: authorizationUrl! };
}

function deviceLogin(auth: CliAuth, issuer: string, options: LoginOptions = {}) {
  return auth.login({
    flow: "device",
    openBrowser: false,
    onDeviceCode: (info) => void approveDevice(issuer, info.userCode, { login: "dave" }).catch(() => {}),
    ...options,
  });
}

const claimsOf = (jwt: string) => JSON.parse(atob(jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));

describe("auth.fetch() on an API that demands a stronger sign-in", () => {
  it("throws step_up_required with the acr values after ONE request and no refresh; login({ acrValues }) then gets through", async () => {
    const { auth, store } = newAuth(api.resource);
    await browserLogin(auth);
    const before = JSON.parse(store.values.get("default")!).tokens.accessToken;
    expect(claimsOf(before).acr).toBe(PWD);
    await provider.reset();
    const seen = api.seen.length;

    const error = await rejection(auth.fetch(`${api.origin}/api/step-up`));
    expect(error.code).toBe("step_up_required");
    expect(error.acrValues).toEqual([MFA]);
    expect(error.maxAge).toBeUndefined();
    expect(error.status).toBe(401);
    expect(error.error).toBe("insufficient_user_authentication");
    expect(error.hint).toContain("`my-cli login`");
    expect(error.hint).toContain(MFA);
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: "step_up_required", acrValues: [MFA] });
    expect(api.seen.length - seen).toBe(1);
    expect(await provider.tokenRequests(REFRESH)).toEqual([]);

    const { authorizationUrl } = await browserLogin(auth, { acrValues: error.acrValues });
    expect(authorizationUrl.searchParams.get("acr_values")).toBe(MFA);
    const after = JSON.parse(store.values.get("default")!).tokens.accessToken;
    expect(after).not.toBe(before);
    expect(claimsOf(after).acr).toBe(MFA);
    const response = await auth.fetch(`${api.origin}/api/step-up`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ subject: "alice", acr: MFA });
  });

  it("parses max_age=0 from the challenge; login({ acrValues, maxAge: 0 }) sends max_age and gets through", async () => {
    const { auth } = newAuth(recentApi.resource);
    await browserLogin(auth);
    const error = await rejection(auth.fetch(`${recentApi.origin}/api/step-up`));
    expect(error.code).toBe("step_up_required");
    expect(error.acrValues).toEqual([MFA]);
    expect(error.maxAge).toBe(0);
    expect(JSON.parse(JSON.stringify(error)).maxAge).toBe(0);

    const { authorizationUrl } = await browserLogin(auth, { acrValues: error.acrValues, maxAge: error.maxAge });
    expect(authorizationUrl.searchParams.get("acr_values")).toBe(MFA);
    expect(authorizationUrl.searchParams.get("max_age")).toBe("0");
    const response = await auth.fetch(`${recentApi.origin}/api/step-up`);
    expect(response.status).toBe(200);
  });

  it("parses the challenge on the DPoP scheme for a DPoP-bound session", async () => {
    const { auth } = newAuth(api.resource, { dpop: true });
    await browserLogin(auth);
    await provider.reset();
    const seen = api.seen.length;
    const error = await rejection(auth.fetch(`${api.origin}/api/step-up`));
    expect(api.seen.at(-1)?.authorization).toMatch(/^DPoP /);
    expect(error.code).toBe("step_up_required");
    expect(error.acrValues).toEqual([MFA]);
    expect(api.seen.length - seen).toBe(1);
    expect(await provider.tokenRequests(REFRESH)).toEqual([]);
  });

  it("a manual login sends acr_values and max_age on the authorization request, and gets through", async () => {
    let callback: Promise<URL> | undefined;
    let authorizationUrl: URL | undefined;
    // The user pastes the URL the browser was sent to: the scripted user's callback.
    const platform = async () => {
      const real = await createPlatform();
      return { ...real, terminal: { ...real.terminal, writeStderr: () => {}, readLine: async () => (await callback!).href } };
    };
    const { auth } = newAuth(api.resource, { platform });
    await auth.login({
      flow: "manual",
      openBrowser: false,
      acrValues: [MFA],
      maxAge: 300,
      onAuthorizationUrl: (url) => {
        authorizationUrl = new URL(url);
        callback = authorizeWithoutBrowser(url, { login: "alice" });
      },
    });
    expect(authorizationUrl?.searchParams.get("acr_values")).toBe(MFA);
    expect(authorizationUrl?.searchParams.get("max_age")).toBe("300");
    const response = await auth.fetch(`${api.origin}/api/step-up`);
    expect(response.status).toBe(200);
  });

  it("a device login with acrValues sends them on the device authorization request", async () => {
    const { auth } = newAuth(api.resource);
    await deviceLogin(auth, provider.issuer, { acrValues: [MFA], maxAge: 300 });
    const response = await auth.fetch(`${api.origin}/api/step-up`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ subject: "dave", acr: MFA });
  });
});

describe("login({ acrValues, maxAge }) checks what the ID token says was done", () => {
  it("fails a browser login at a server that ignored acr_values, and stores nothing", async () => {
    const { auth, store } = newAuth(api.resource, {}, ignoring.issuer);
    const error = await rejection(browserLogin(auth, { acrValues: [MFA] }));
    expect(error.code).toBe("access_denied");
    expect(error.message).toMatch(/did not perform the requested authentication/);
    expect(error.message).toContain(MFA);
    expect(store.writes).toBe(0);
    expect(await auth.getSession()).toBeNull();
  });

  it("fails a device login at a server that ignored acr_values, and stores nothing", async () => {
    const { auth, store } = newAuth(api.resource, {}, ignoring.issuer);
    const error = await rejection(deviceLogin(auth, ignoring.issuer, { acrValues: [MFA] }));
    expect(error.code).toBe("access_denied");
    expect(error.message).toMatch(/did not perform the requested authentication/);
    expect(store.writes).toBe(0);
  });

  it("fails a login whose auth_time is older than maxAge allows, and stores nothing", async () => {
    // The CLI's clock says the login started ten minutes after the provider's sign-in: auth_time is too old for 60 s.
    const { auth, store } = newAuth(api.resource, { now: () => Date.now() + 600_000 });
    const error = await rejection(browserLogin(auth, { maxAge: 60 }));
    expect(error.code).toBe("access_denied");
    expect(error.message).toMatch(/did not perform the requested authentication/);
    expect(store.writes).toBe(0);
  });

  it("refuses acrValues and maxAge that cannot be sent, before any request", async () => {
    const { auth } = newAuth(api.resource);
    await provider.reset();
    for (const options of [{ acrValues: [] }, { acrValues: ["two words"] }, { acrValues: [""] }, { maxAge: -1 }, { maxAge: 1.5 }]) {
      const error = await rejection(browserLogin(auth, options as LoginOptions));
      expect(error.code, JSON.stringify(options)).toBe("invalid_options");
    }
    expect((await provider.requests()).filter((r) => r.path !== "/.well-known/openid-configuration")).toEqual([]);
  });
});
