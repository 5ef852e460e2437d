// Behind a corporate network, on the runtime running this test: the real provider served over HTTPS with a private
// CA (made by openssl) under a host name only the test proxies resolve (idp.test -> 127.0.0.1), so any request that
// bypasses the proxy fails; real CONNECT proxies (the `proxy` npm package) that report every tunnel, one of them
// wanting credentials, two refusing tunnels. The library's requests go through `proxy` / HTTPS_PROXY, trust `ca` /
// NODE_EXTRA_CA_CERTS / DENO_CERT, honour NO_PROXY and `proxy: false`, keep loopback direct, and say what to do when
// a certificate is not trusted or a proxy refuses. The scripted user and Chromium reach the provider through a proxy
// of their own, so the library's proxy sees only the library.
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTransport } from "../adapters/mod.ts";
import { CliAuth, type CliAuthError, type CliAuthOptions } from "../mod.ts";
import { createVerifier } from "../server/mod.ts";
import { launchChromium, signInOnProviderPages, type TestBrowser } from "./support/browser.ts";
import { type ForwardProxy, startForwardProxy } from "./support/forward_proxy.ts";
import { approveDevice } from "./support/interact.ts";
import { startProvider, type TestProvider } from "./support/provider.ts";
import { runScript } from "./support/run_script.ts";
import { runtimeKey } from "./support/runtime.ts";
import { createTestCa, type TestCa } from "./support/test_ca.ts";
import { errorTexts } from "./hardening/secrets.ts";
import { rejection } from "./support/reject.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/corporate_session.ts", import.meta.url));
const HOST = "idp.test";
const API = "https://api.test/";
const PROXY_USER = "corp-user";
const PROXY_PASSWORD = "Proxy-Pa55word-right";
const WRONG_PASSWORD = "Proxy-Pa55word-wrong";
/** The variable the running runtime reads extra CA files from, and the other runtimes' one. */
const CA_VARIABLE = runtimeKey() === "deno" ? "DENO_CERT" : "NODE_EXTRA_CA_CERTS";
const OTHER_CA_VARIABLE = runtimeKey() === "deno" ? "NODE_EXTRA_CA_CERTS" : "DENO_CERT";
/** The parent's own proxy settings never reach the child processes, nor does Deno's update check go out. */
const CHILD_ENV = {
  DENO_NO_UPDATE_CHECK: "1",
  HTTPS_PROXY: undefined,
  https_proxy: undefined,
  HTTP_PROXY: undefined,
  http_proxy: undefined,
  NO_PROXY: undefined,
  no_proxy: undefined,
  ALL_PROXY: undefined,
  all_proxy: undefined,
  NODE_EXTRA_CA_CERTS: undefined,
  DENO_CERT: undefined,
};

let ca: TestCa;
/** A CA that signed nothing here. */
let otherCa: TestCa;
let provider: TestProvider;
let plain: TestProvider;
let proxy: ForwardProxy;
let userProxy: ForwardProxy;
let authProxy: ForwardProxy;
let refusing403: ForwardProxy;
let refusing502: ForwardProxy;
/** How the user's own machine (browser, phone) reaches the provider. */
let userFetch: (input: URL, init: RequestInit) => Promise<Response>;

beforeAll(async () => {
  ca = createTestCa([HOST]);
  otherCa = createTestCa(["other.test"]);
  const hosts = { [HOST]: "127.0.0.1" };
  [provider, plain, proxy, userProxy, authProxy, refusing403, refusing502] = await Promise.all([
    startProvider({ tls: { keyFile: ca.keyFile, certFile: ca.certFile }, hostName: HOST, resources: { [API]: { format: "jwt" } } }),
    startProvider(),
    startForwardProxy({ hosts }),
    startForwardProxy({ hosts }),
    startForwardProxy({ hosts, credentials: `${PROXY_USER}:${PROXY_PASSWORD}` }),
    startForwardProxy({ refuse: 403 }),
    startForwardProxy({ refuse: 502 }),
  ]);
  userFetch = createTransport({ proxy: userProxy.url, ca: ca.caPem });
});
afterAll(async () => {
  await Promise.all([provider, plain, proxy, userProxy, authProxy, refusing403, refusing502].map((p) => p?.close()));
  ca?.remove();
  otherCa?.remove();
});

function newAuth(extra: Partial<CliAuthOptions> = {}): CliAuth {
  return new CliAuth({
    issuer: provider.issuer,
    clientId: "cli",
    service: "cli-auth-corporate-test",
    storage: "memory",
    apiOrigins: [provider.issuer],
    timeoutMs: 10_000,
    ...extra,
  });
}

/** A device login the scripted user approves (through `fetchImpl`, default: the user's proxy). */
async function deviceLogin(auth: CliAuth, issuer: string, login: string, fetchImpl = userFetch) {
  let approval: Promise<string> | undefined;
  const result = await auth.login({
    flow: "device",
    openBrowser: false,
    onDeviceCode: ({ userCode }) => void (approval = approveDevice(issuer, userCode, { login }, fetchImpl)),
  });
  await approval;
  return result;
}

function expectUntrusted(error: CliAuthError, host: string): void {
  expect(error.code).toBe("network_error");
  expect(error.message).toContain(`The certificate of ${host} is not trusted`);
  expect(error.hint).toContain("`ca` option");
  expect(error.hint).toContain(CA_VARIABLE);
  expect(error.hint).not.toContain(OTHER_CA_VARIABLE);
}

describe("through a proxy set by the `proxy` option, trusting `ca`", () => {
  it("signs in (device flow), refreshes, asks who the user is, calls the API and logs out", async () => {
    await provider.reset();
    const auth = newAuth({ proxy: proxy.url, ca: ca.caPem });
    const { tokens, user } = await deviceLogin(auth, provider.issuer, "alice");
    expect(user?.sub).toBe("alice");
    expect(await auth.getAccessToken({ forceRefresh: true })).not.toBe(tokens.accessToken);
    expect((await auth.whoami()).sub).toBe("alice");
    const response = await auth.fetch(`${provider.issuer}/me`);
    expect(response.status).toBe(200);
    expect((await response.json()).sub).toBe("alice");
    expect(await auth.logout()).toEqual({ revoked: true, hadSession: true });

    // The provider answered each of them; only the proxy can reach it, and it saw tunnels to it and nothing else.
    const seen = (await provider.requests()).map((r) => `${r.method} ${r.path}${r.grantType ? ` ${r.grantType}` : ""}`);
    expect(seen).toEqual(expect.arrayContaining([
      "GET /.well-known/openid-configuration",
      "POST /device/auth",
      "POST /token urn:ietf:params:oauth:grant-type:device_code",
      "POST /token refresh_token",
      "GET /me",
      "POST /token/revocation",
    ]));
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([`${HOST}:${provider.port}`]));
  });

  it("sends nothing for a loopback issuer through the proxy", async () => {
    const before = [proxy.tunnels.length, proxy.requests.length];
    const auth = new CliAuth({
      issuer: plain.issuer,
      clientId: "cli",
      service: "cli-auth-corporate-test",
      storage: "memory",
      allowInsecureRequests: true,
      proxy: proxy.url,
    });
    const { user } = await deviceLogin(auth, plain.issuer, "lou", (input, init) => fetch(input, init));
    expect(user?.sub).toBe("lou");
    expect([proxy.tunnels.length, proxy.requests.length]).toEqual(before);
  });

  it("works for the server verifier too, given createTransport() as its fetch", async () => {
    const auth = newAuth({ proxy: proxy.url, ca: ca.caPem, resource: API, scopes: ["openid", "api:read"] });
    await deviceLogin(auth, provider.issuer, "carol");
    const token = await auth.getAccessToken();
    const http = { fetch: createTransport({ proxy: proxy.url, ca: ca.caPem }) };
    const verified = await createVerifier({ issuer: provider.issuer, audience: API, http }).verifyToken(token);
    expect(verified.subject).toBe("carol");
    // Without it the verifier cannot even find the issuer.
    await rejection(createVerifier({ issuer: provider.issuer, audience: API }).verifyToken(token));
  });

  it("reports a certificate no trusted CA signed as network_error naming the host, with what to do", async () => {
    const error = await rejection(newAuth({ proxy: proxy.url }).login({ flow: "device" }));
    expectUntrusted(error, HOST);
    // The same without a proxy (the runtime's own fetch), here at the provider's address.
    const direct = await rejection(newAuth({ issuer: `https://127.0.0.1:${provider.port}` }).login({ flow: "device" }));
    expectUntrusted(direct, "127.0.0.1");
  });

  it("trusts `ca` without a proxy as well, and the system's CAs stay trusted besides", async () => {
    const metadata = `https://127.0.0.1:${provider.port}/.well-known/openid-configuration`;
    const response = await createTransport({ ca: [ca.caPem] })(metadata);
    expect((await response.json()).issuer).toBe(provider.issuer);
    expectUntrusted(await rejection(createTransport()(metadata)), "127.0.0.1");
  });

  it("uses credentials in the proxy URL, and shows a 407 without them: the proxy named, the status, a hint", async () => {
    const metadata = `${provider.issuer}/.well-known/openid-configuration`;
    const withCredentials = `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:${authProxy.port}`;
    const response = await createTransport({ proxy: withCredentials, ca: ca.caPem })(metadata);
    expect(response.status).toBe(200);
    await response.body?.cancel();

    const wrong = `http://${PROXY_USER}:${WRONG_PASSWORD}@127.0.0.1:${authProxy.port}`;
    const error = await rejection(newAuth({ proxy: wrong, ca: ca.caPem }).login({ flow: "device" }));
    expect(error.code).toBe("network_error");
    expect(error.status).toBe(407);
    expect(error.message).toBe(`The proxy ${authProxy.url} refused the tunnel to ${HOST}:${provider.port} (HTTP 407)`);
    expect(error.hint).toMatch(/The proxy wants credentials/);
    await vi.waitFor(() => expect(authProxy.refused).toContain(407));
    for (const text of errorTexts(error)) {
      expect(text).not.toContain(WRONG_PASSWORD);
      expect(text).not.toContain(`${PROXY_USER}:`);
    }
  });

  it("shows a proxy refusing the tunnel (403, 502) with its status and a hint", async () => {
    for (const [refusing, status, hint] of [[refusing403, 403, /does not allow idp\.test/], [refusing502, 502, /could not open/]] as const) {
      const error = await rejection(newAuth({ proxy: refusing.url, ca: ca.caPem }).login({ flow: "device" }));
      expect(error.code).toBe("network_error");
      expect(error.status).toBe(status);
      expect(error.message).toBe(`The proxy ${refusing.url} refused the tunnel to ${HOST}:${provider.port} (HTTP ${status})`);
      expect(error.hint).toMatch(hint);
    }
  });

  it("refuses `fetch` together with `proxy` or `ca`", () => {
    expect(() => newAuth({ fetch, proxy: proxy.url })).toThrow(/cannot be combined/);
    expect(() => newAuth({ fetch, ca: ca.caPem })).toThrow(/cannot be combined/);
  });
});

describe("through a proxy from the environment (a CLI process)", () => {
  type Line = { step?: string; ok?: boolean; [key: string]: unknown };

  /** Runs the fixture with `env`; answers its browser and device prompts; returns its lines and output. */
  async function session(env: Record<string, string | undefined>, steps: unknown[], chromium?: TestBrowser) {
    const pages: Promise<void>[] = [];
    const approvals: Promise<unknown>[] = [];
    let handled = 0;
    const result = await runScript(FIXTURE, {
      env: { ...CHILD_ENV, ...env, SESSION_STEPS: JSON.stringify({ steps }) },
      timeoutMs: 60_000,
      onStdout: (_chunk, all) => {
        const lines = all.split("\n").slice(0, -1);
        for (; handled < lines.length; handled++) {
          const line = JSON.parse(lines[handled]!) as Line;
          if (typeof line.authorizationUrl === "string") {
            const url = line.authorizationUrl;
            pages.push((async () => {
              const page: Page = await chromium!.newPage();
              await page.goto(url);
              await signInOnProviderPages(page, { login: "dana" });
              await page.getByText("You are signed in").waitFor();
              await page.close();
            })());
          }
          if (typeof line.userCode === "string") {
            const issuer = String(line.issuer);
            const via = issuer === provider.issuer ? userFetch : (input: URL, init: RequestInit) => fetch(input, init);
            approvals.push(approveDevice(issuer, line.userCode, { login: "erin" }, via));
          }
        }
      },
    });
    await Promise.all([...pages, ...approvals]);
    const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as Line).filter((l) => l.step);
    return { ...result, lines };
  }

  it(`HTTPS_PROXY and ${CA_VARIABLE}: browser login (loopback callback), refresh, whoami, auth.fetch, logout, device login`, async () => {
    const chromium = await launchChromium({ proxy: { server: userProxy.url, hosts: [HOST] } });
    try {
      const tunnels = proxy.tunnels.length;
      const issuer = provider.issuer;
      // `ca` names another CA: the one from the environment must stay trusted besides it.
      const options = { ca: otherCa.caPem };
      const { lines, stderr } = await session({ HTTPS_PROXY: proxy.url, [CA_VARIABLE]: ca.caFile }, [
        { kind: "browser", issuer, options },
        { kind: "refresh", issuer, options },
        { kind: "whoami", issuer, options },
        { kind: "fetch", issuer, url: `${issuer}/me`, options },
        { kind: "logout", issuer, options },
        { kind: "device", issuer, options },
      ], chromium);
      expect(lines, stderr).toEqual([
        { step: "browser", ok: true, sub: "dana", flow: "browser" },
        { step: "refresh", ok: true, changed: true },
        { step: "whoami", ok: true, sub: "dana" },
        { step: "fetch", ok: true, status: 200, body: expect.objectContaining({ sub: "dana" }) },
        { step: "logout", ok: true, revoked: true, hadSession: true },
        { step: "device", ok: true, sub: "erin", flow: "device" },
      ]);
      expect(proxy.tunnels.length).toBeGreaterThan(tunnels);
      expect(new Set(proxy.tunnels.slice(tunnels))).toEqual(new Set([`${HOST}:${provider.port}`]));
    } finally {
      await chromium.close();
    }
  });

  it("NO_PROXY naming the host (any case, with its port) sends it direct, so it fails; loopback stays direct", async () => {
    const before = [proxy.tunnels.length, proxy.requests.length];
    const { lines, stderr } = await session({
      HTTPS_PROXY: proxy.url,
      HTTP_PROXY: proxy.url,
      NO_PROXY: `other.example, ${HOST.toUpperCase()}:${provider.port}`,
      [CA_VARIABLE]: ca.caFile,
    }, [
      { kind: "device", issuer: provider.issuer },
      { kind: "device", issuer: plain.issuer },
    ]);
    expect(lines[0], stderr).toMatchObject({ step: "device", ok: false, code: "network_error" });
    expect(String(lines[0]!.message)).toMatch(/could not reach the server/);
    expect(lines[1], stderr).toEqual({ step: "device", ok: true, sub: "erin", flow: "device" });
    expect([...proxy.tunnels.slice(before[0]), ...proxy.requests.slice(before[1])]).toEqual([]);
  });

  it("`proxy: false` connects directly despite HTTPS_PROXY; a 407 from HTTPS_PROXY shows no credentials anywhere", async () => {
    const refusedBefore = authProxy.refused.length;
    const { lines, stdout, stderr } = await session({
      HTTPS_PROXY: `http://${PROXY_USER}:${WRONG_PASSWORD}@127.0.0.1:${authProxy.port}`,
      [CA_VARIABLE]: ca.caFile,
    }, [
      { kind: "device", issuer: provider.issuer, options: { proxy: false } },
      { kind: "device", issuer: provider.issuer },
    ]);
    // Direct: idp.test cannot be resolved (through the proxy it would have been a 407).
    expect(lines[0], stderr).toMatchObject({ step: "device", ok: false, code: "network_error" });
    expect(String(lines[0]!.message)).toMatch(/could not reach the server/);
    expect(lines[1], stderr).toMatchObject({ step: "device", ok: false, code: "network_error", status: 407 });
    expect(lines[1]!.message).toBe(`The proxy ${authProxy.url} refused the tunnel to ${HOST}:${provider.port} (HTTP 407)`);
    await vi.waitFor(() => expect(authProxy.refused.length).toBe(refusedBefore + 1));
    expect(stderr).toContain("refused the tunnel");
    for (const output of [stdout, stderr]) {
      expect(output).not.toContain(WRONG_PASSWORD);
      expect(output).not.toContain(`${PROXY_USER}:`);
    }
  });
});
