// beginLogin / resumeLogin / cancelLogin against the real provider, in process: every step on a NEW CliAuth instance
// sharing only the store, so nothing of a pending login lives anywhere but in the store (the cross-process tests are
// pending_login_processes.test.ts). The scripted user approves, denies or lets codes expire.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth, type CliAuthOptions, type PendingLogin } from "../../mod.ts";
import { approveDevice, authorizeWithoutBrowser } from "../support/interact.ts";
import { countingStore, PENDING_LOGIN_KEY, testOptions } from "../support/login.ts";
import { DEVICE_GRANT, startProvider, type TestProvider } from "../support/provider.ts";
import { rejection } from "../support/reject.ts";
import { type ResourceServer, startResourceServer } from "../support/resource_server.ts";


let provider: TestProvider;
let expiring: TestProvider;
let dpopProvider: TestProvider;
let registering: TestProvider;
let api: ResourceServer;

beforeAll(async () => {
  api = await startResourceServer();
  [provider, expiring, dpopProvider, registering] = await Promise.all([
    startProvider({ deviceInterval: 1 }),
    startProvider({ deviceInterval: 1, deviceCodeTtl: 2 }),
    startProvider({ deviceInterval: 1, dpop: true }),
    startProvider({ deviceInterval: 1, registration: true, resources: { [api.resource]: { format: "jwt", scope: "api:read" } } }),
  ]);
  api.trust(registering.issuer);
});
afterAll(async () => {
  await Promise.all([provider?.close(), expiring?.close(), dpopProvider?.close(), registering?.close(), api?.close()]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A new instance on `store`: as a new process would see it. */
function auth(store: ReturnType<typeof countingStore>, issuer = provider.issuer, extra: Partial<CliAuthOptions> = {}) {
  return new CliAuth(testOptions(issuer, { storage: store, ...extra }));
}

/** The secret half kept in the store. */
function stored(store: ReturnType<typeof countingStore>): Record<string, unknown> | undefined {
  const value = store.values.get(PENDING_LOGIN_KEY);
  return value === undefined ? undefined : JSON.parse(value);
}

async function devicePolls(server: TestProvider) {
  return (await server.tokenRequests(DEVICE_GRANT)).length;
}

describe("beginLogin() and resumeLogin(), device flow", () => {
  it("begins with a JSON-serializable pending login without secrets, and finishes from another instance", async () => {
    const store = countingStore();
    const pending = await auth(store).beginLogin();
    expect(pending).toMatchObject({ flow: "device", interval: 1, verificationUri: `${provider.issuer}/device` });
    expect(pending.userCode).toMatch(/\w/);
    expect(pending.verificationUriComplete).toContain("user_code=");
    expect(pending.expiresAt).toBeGreaterThan(Date.now() + 60_000);
    expect(JSON.parse(JSON.stringify(pending))).toEqual(pending);
    const secret = stored(store);
    expect(typeof secret?.deviceCode).toBe("string");
    expect(JSON.stringify(pending)).not.toContain(secret!.deviceCode as string);
    expect(store.values.has("default")).toBe(false);

    expect((await auth(store).status()).pendingLogin).toEqual({
      flow: "device",
      expiresAt: pending.expiresAt,
      userCode: pending.userCode,
      verificationUri: pending.verificationUri,
    });
    await approveDevice(provider.issuer, pending.userCode!, { login: "erin" });
    await sleep(1_100);
    const resumed = await auth(store).resumeLogin();
    expect(resumed.done).toBe(true);
    if (!resumed.done) throw new Error("unreachable");
    expect(resumed.result.flow).toBe("device");
    expect(resumed.result.user?.sub).toBe("erin");
    // The session is stored, the pending login gone.
    const later = auth(store);
    expect(await later.getAccessToken()).toBe(resumed.result.tokens.accessToken);
    expect(store.values.has(PENDING_LOGIN_KEY)).toBe(false);
    expect((await later.status()).pendingLogin).toBeUndefined();
    expect((await later.status()).loggedIn).toBe(true);
  });

  it("makes at most one token request per call, none sooner than the interval, and honours slow_down", async () => {
    const own = await startProvider({ deviceInterval: 1 });
    try {
      const store = countingStore();
      const pending = await auth(store, own.issuer).beginLogin({ flow: "device" });
      // Sooner than the interval after the device authorization: no request at all.
      const early = await auth(store, own.issuer).resumeLogin();
      expect(early).toEqual({ done: false, pending });
      expect(await devicePolls(own)).toBe(0);
      await sleep(1_100);
      await own.slowDown(1);
      const slowed = await auth(store, own.issuer).resumeLogin();
      expect(await devicePolls(own)).toBe(1);
      expect(slowed.done).toBe(false);
      if (slowed.done) throw new Error("unreachable");
      expect(slowed.pending.interval).toBe(6);
      // The raised interval is kept: 1.1 s later is still too soon.
      await sleep(1_100);
      expect((await auth(store, own.issuer).resumeLogin()).done).toBe(false);
      expect(await devicePolls(own)).toBe(1);
    } finally {
      await own.close();
    }
  });

  it("resumeLogin({ wait: true }) polls until the user approves", async () => {
    const store = countingStore();
    const pending = await auth(store).beginLogin();
    setTimeout(() => void approveDevice(provider.issuer, pending.userCode!, { login: "frank" }), 1_500);
    const resumed = await auth(store).resumeLogin({ wait: true, timeoutMs: 20_000 });
    expect(resumed.done && resumed.result.user?.sub).toBe("frank");
    expect((await auth(store).getSession())?.user?.sub).toBe("frank");
  });

  it("resumeLogin({ wait: true }) cancelled by its signal rejects with login_cancelled and keeps the pending login", async () => {
    const store = countingStore();
    const pending = await auth(store).beginLogin();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1_500);
    const error = await rejection(auth(store).resumeLogin({ wait: true, signal: controller.signal }));
    expect(error.code).toBe("login_cancelled");
    expect((await auth(store).status()).pendingLogin?.userCode).toBe(pending.userCode);
    const timedOut = await rejection(auth(store).resumeLogin({ wait: true, timeoutMs: 1_200 }));
    expect(timedOut.code).toBe("login_timeout");
    expect((await auth(store).status()).pendingLogin?.userCode).toBe(pending.userCode);
  });

  it("access_denied forgets the pending login", async () => {
    const store = countingStore();
    const pending = await auth(store).beginLogin();
    await approveDevice(provider.issuer, pending.userCode!, { deny: true });
    const error = await rejection(auth(store).resumeLogin({ wait: true, timeoutMs: 10_000 }));
    expect(error.code).toBe("access_denied");
    expect(store.values.has(PENDING_LOGIN_KEY)).toBe(false);
    expect((await auth(store).status()).pendingLogin).toBeUndefined();
    expect((await rejection(auth(store).resumeLogin())).code).toBe("no_pending_login");
    expect(await auth(store).getSession()).toBeNull();
  });

  it("an expired device code forgets the pending login, and status() does not report it", async () => {
    const store = countingStore();
    await auth(store, expiring.issuer).beginLogin();
    const copy = store.values.get(PENDING_LOGIN_KEY)!;
    await sleep(2_300);
    // status() forgets an expired pending login lazily, without reporting it.
    expect((await auth(store, expiring.issuer).status()).pendingLogin).toBeUndefined();
    expect(store.values.has(PENDING_LOGIN_KEY)).toBe(false);
    // resumeLogin() on an expired one says so, and forgets it, without asking the server.
    store.values.set(PENDING_LOGIN_KEY, copy);
    await expiring.reset();
    const error = await rejection(auth(store, expiring.issuer).resumeLogin());
    expect(error.code).toBe("device_code_expired");
    expect(error.hint).toMatch(/login/);
    expect(store.values.has(PENDING_LOGIN_KEY)).toBe(false);
    expect(await devicePolls(expiring)).toBe(0);
    // The server says so first (the stored expiry later than the server's): the same, after one poll.
    store.values.set(PENDING_LOGIN_KEY, JSON.stringify({ ...JSON.parse(copy), expiresAt: Date.now() + 60_000 }));
    const told = await rejection(auth(store, expiring.issuer).resumeLogin());
    expect(told.code).toBe("device_code_expired");
    expect(await devicePolls(expiring)).toBe(1);
    expect(store.values.has(PENDING_LOGIN_KEY)).toBe(false);
  });

  it("a new beginLogin() replaces the pending one; cancelLogin() forgets it", async () => {
    const store = countingStore();
    const first = await auth(store).beginLogin();
    const second = await auth(store).beginLogin();
    expect(second.userCode).not.toBe(first.userCode);
    expect((await auth(store).status()).pendingLogin?.userCode).toBe(second.userCode);
    expect(await auth(store).cancelLogin()).toEqual({ cancelled: true });
    expect(await auth(store).cancelLogin()).toEqual({ cancelled: false });
    expect((await auth(store).status()).pendingLogin).toBeUndefined();
    const error = await rejection(auth(store, provider.issuer, { loginCommand: "my-cli login --json" }).resumeLogin());
    expect(error.code).toBe("no_pending_login");
    expect(error.hint).toContain("my-cli login --json");
  });

  it("resumeLogin() with no pending login: no_pending_login, no request", async () => {
    await provider.reset();
    const error = await rejection(auth(countingStore()).resumeLogin({ wait: true }));
    expect(error.code).toBe("no_pending_login");
    expect(await provider.requests()).toEqual([]);
  });
});

describe("beginLogin({ flow: \"manual\" }) and resumeLogin({ callbackUrl })", () => {
  async function beginManual(store: ReturnType<typeof countingStore>): Promise<PendingLogin> {
    const pending = await auth(store).beginLogin({ flow: "manual" });
    expect(pending.flow).toBe("manual");
    expect(pending.authorizationUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
    expect(pending.expiresAt).toBeGreaterThan(Date.now());
    const secret = stored(store)!;
    expect(typeof secret.codeVerifier).toBe("string");
    expect(JSON.stringify(pending)).not.toContain(secret.codeVerifier as string);
    return pending;
  }

  it("finishes from the redirect URL, its query or the bare code", async () => {
    for (const paste of [(u: URL) => u.href, (u: URL) => u.search.slice(1), (u: URL) => u.searchParams.get("code")!]) {
      const store = countingStore();
      const pending = await beginManual(store);
      expect((await auth(store).status()).pendingLogin).toEqual({ flow: "manual", expiresAt: pending.expiresAt });
      const callback = await authorizeWithoutBrowser(pending.authorizationUrl!, { login: "grace" });
      const resumed = await auth(store).resumeLogin({ callbackUrl: paste(callback) });
      expect(resumed.done && resumed.result.flow).toBe("manual");
      expect(resumed.done && resumed.result.user?.sub).toBe("grace");
      expect((await auth(store).getSession())?.flow).toBe("manual");
      expect(store.values.has(PENDING_LOGIN_KEY)).toBe(false);
    }
  });

  it("a wrong state is state_mismatch: nothing stored, the pending login kept for the right URL", async () => {
    const store = countingStore();
    const pending = await beginManual(store);
    const callback = await authorizeWithoutBrowser(pending.authorizationUrl!);
    const forged = new URL(callback);
    forged.searchParams.set("state", "forged-state");
    const error = await rejection(auth(store).resumeLogin({ callbackUrl: forged.href }));
    expect(error.code).toBe("state_mismatch");
    expect(store.values.has("default")).toBe(false);
    expect((await auth(store).resumeLogin({ callbackUrl: callback.href })).done).toBe(true);
  });

  it("without a callbackUrl it reports the manual login still pending; a device resume of it is refused", async () => {
    const store = countingStore();
    const pending = await beginManual(store);
    expect(await auth(store).resumeLogin()).toEqual({ done: false, pending });
    const error = await rejection(auth(store).resumeLogin({ wait: true }));
    expect(error.code).toBe("invalid_options");
  });
});

describe("what the pending login keeps besides the codes", () => {
  it("dpop: true: the key made at begin, so the session finished elsewhere is bound to it", async () => {
    const store = countingStore();
    const pending = await auth(store, dpopProvider.issuer, { dpop: true }).beginLogin();
    const key = stored(store)!.dpopKey as { publicJwk: JsonWebKey; privateJwk: JsonWebKey };
    expect(key.privateJwk.d).toBeTruthy();
    expect(JSON.stringify(pending)).not.toContain(key.privateJwk.d!);
    await approveDevice(dpopProvider.issuer, pending.userCode!, { login: "dpop-agent" });
    const resumed = await auth(store, dpopProvider.issuer, { dpop: true }).resumeLogin({ wait: true, timeoutMs: 10_000 });
    expect(resumed.done && resumed.result.tokens.tokenType).toBe("DPoP");
    expect(JSON.parse(store.values.get("default")!).dpopKey).toEqual(key);
    // The proofs of the stored key work at userinfo.
    expect((await auth(store, dpopProvider.issuer, { dpop: true }).whoami()).sub).toBe("dpop-agent");
  });

  it("sign-in from a resource URL: the client registered at begin finishes it, with no second registration", async () => {
    const store = countingStore();
    const options = { service: "cli-auth-pending-resource", storage: store, resource: api.resource, allowInsecureRequests: true };
    const pending = await new CliAuth(options).beginLogin();
    const clientId = stored(store)!.clientId as string;
    expect(clientId).not.toBe("cli");
    await approveDevice(registering.issuer, pending.userCode!, { login: "resource-agent" });
    const resumed = await new CliAuth(options).resumeLogin({ wait: true, timeoutMs: 10_000 });
    expect(resumed.done).toBe(true);
    expect(JSON.parse(store.values.get("default")!).clientId).toBe(clientId);
    expect((await registering.requests()).filter((r) => r.method === "POST" && r.path === "/reg")).toHaveLength(1);
    expect((await new CliAuth(options).fetch(`${api.origin}/api/me`)).status).toBe(200);
  });
});
