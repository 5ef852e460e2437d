// Sign-in from nothing but a resource URL: RFC 9728 metadata, the authorization server it names, RFC 7591
// registration of a public client (once, then reused from the store), RFC 8707 resource on the token requests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth, CliAuthError } from "../../mod.ts";
import { discoverProtectedResource } from "../../src/mod.ts";
import { approveDevice } from "../support/interact.ts";
import { countingStore } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { type ResourceServer, startResourceServer } from "../support/resource_server.ts";
import { runScript } from "../support/run_script.ts";

const FIXTURE = fileURLToPath(new URL("../fixtures/resource_login.ts", import.meta.url));
let provider: TestProvider;
let api: ResourceServer;
let configHome: string;

beforeAll(async () => {
  api = await startResourceServer();
  provider = await startProvider({ registration: true, resources: { [api.resource]: { format: "jwt", scope: "api:read" } } });
  api.trust(provider.issuer);
  configHome = mkdtempSync(join(tmpdir(), "cli-auth-resource-"));
});
afterAll(async () => {
  await Promise.all([provider?.close(), api?.close()]);
  rmSync(configHome, { recursive: true, force: true });
});

function registrations() {
  return provider.requests().then((all) => all.filter((r) => r.method === "POST" && r.path === "/reg"));
}

/** Runs the fixture CLI in a new process; approves its device code as the user would. */
function cliProcess(service: string) {
  let approved = false;
  return runScript(FIXTURE, {
    timeoutMs: 30_000,
    env: { RESOURCE: api.resource, SERVICE: service, XDG_CONFIG_HOME: configHome, DBUS_SESSION_BUS_ADDRESS: undefined },
    onStderr: (_chunk, all) => {
      const code = /user_code=([\w-]+)/.exec(all)?.[1];
      if (code && !approved) {
        approved = true;
        void approveDevice(provider.issuer, code, { login: "mcp-user" });
      }
    },
  });
}

describe("new CliAuth({ resource }) with no issuer and no clientId", () => {
  it("discovers, registers once, logs in with the resource as audience, and a new process reuses the client", async () => {
    const service = `mcp-client-${Date.now()}`;
    await provider.reset();
    const first = await cliProcess(service);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("login device mcp-user");
    expect(first.stdout).toContain("api 200 mcp-user");
    expect(await registrations()).toHaveLength(1);

    const second = await cliProcess(service);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("api 200 mcp-user");
    expect(await registrations()).toHaveLength(1);
  });

  it("asks the API for its metadata through the resource_metadata of its 401", async () => {
    const metadata = await discoverProtectedResource(api.resource, { http: { allowInsecureRequests: true } });
    expect(metadata.resource).toBe(api.resource);
    expect(metadata.authorization_servers).toEqual([provider.issuer]);
  });

  it("gets a token whose audience is the resource", async () => {
    const store = countingStore();
    const auth = new CliAuth({ resource: api.resource, service: "aud-check", storage: store, allowInsecureRequests: true });
    const { tokens } = await auth.login({
      flow: "device",
      openBrowser: false,
      onDeviceCode: (info) => void approveDevice(provider.issuer, info.userCode),
    });
    const payload = JSON.parse(atob(tokens.accessToken.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(payload.aud).toBe(api.resource);
    expect([...store.values.keys()].some((key) => key.startsWith("client:"))).toBe(true);
  });

  it("keeps a session to the resources it was signed in for: another resource on the same profile finds none", async () => {
    // Without issuer and clientId, nothing else tells the sessions apart: the token of one API must not be handed to
    // another API that a later configuration names (a security review found auth.fetch sending it there).
    const other = await startResourceServer();
    try {
      other.trust(provider.issuer);
      const store = countingStore();
      const approve = (info: { userCode: string }) => void approveDevice(provider.issuer, info.userCode);
      const first = { resource: api.resource, service: "two-apis", storage: store, allowInsecureRequests: true };
      await new CliAuth(first).login({ flow: "device", openBrowser: false, onDeviceCode: approve });
      const second = new CliAuth({ ...first, resource: other.resource });
      expect(await second.getSession()).toBeNull();
      expect((await second.status()).loggedIn).toBe(false);
      const error = await second.fetch(new URL("api/me", other.resource)).catch((e) => e);
      expect((error as CliAuthError).code).toBe("not_logged_in");
      expect(other.seen).toEqual([]);
      // The first configuration still has its session.
      expect(await new CliAuth(first).getSession()).not.toBeNull();
    } finally {
      await other.close();
    }
  });

  it("registers again only when the server no longer knows the stored client (invalid_client)", async () => {
    const store = countingStore();
    const options = { resource: api.resource, service: "re-register", storage: store, allowInsecureRequests: true };
    const approve = (info: { userCode: string }) => void approveDevice(provider.issuer, info.userCode);
    await new CliAuth(options).login({ flow: "device", openBrowser: false, onDeviceCode: approve });
    const key = [...store.values.keys()].find((k) => k.startsWith("client:"))!;
    const registered = JSON.parse(store.values.get(key)!);
    await provider.reset();
    // Same client again: no registration.
    await new CliAuth(options).login({ flow: "device", openBrowser: false, onDeviceCode: approve });
    expect(await registrations()).toHaveLength(0);
    // A client the server does not know (deleted there): one new registration, and the login succeeds.
    store.values.set(key, JSON.stringify({ ...registered, clientId: "forgotten-client" }));
    const result = await new CliAuth(options).login({ flow: "device", openBrowser: false, onDeviceCode: approve });
    expect(result.tokens.accessToken).toBeTruthy();
    expect(await registrations()).toHaveLength(1);
    expect(JSON.parse(store.values.get(key)!).clientId).not.toBe("forgotten-client");
  });

  it("names the missing piece when the server offers no registration", async () => {
    const closed = await startProvider({ resources: { [api.resource]: { format: "jwt" } } });
    const other = await startResourceServer();
    other.trust(closed.issuer);
    try {
      const auth = new CliAuth({ resource: other.resource, service: "no-reg", storage: "memory", allowInsecureRequests: true });
      const error = await auth.login({ flow: "device", openBrowser: false, onDeviceCode: () => {} }).catch((e) => e);
      expect(error).toBeInstanceOf(CliAuthError);
      expect((error as CliAuthError).code).toBe("unsupported_flow");
      expect((error as CliAuthError).hint).toContain("clientId");
    } finally {
      await Promise.all([closed.close(), other.close()]);
    }
  });

  it("names the missing piece when the resource has no metadata", async () => {
    const auth = new CliAuth({ resource: `${provider.issuer}/nothing-here/`, service: "no-meta", storage: "memory", allowInsecureRequests: true });
    const error = await auth.login({ flow: "device", openBrowser: false }).catch((e) => e);
    expect((error as CliAuthError).code).toBe("discovery_failed");
    expect((error as CliAuthError).hint).toContain("oauth-protected-resource");
  });
});
