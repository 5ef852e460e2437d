// login({ flow: "device" }) against the real provider, approved by a second client (HTTP or headless Chromium).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth, CliAuthError, type DeviceCodeInfo, type LoginOptions } from "../../mod.ts";
import { launchChromium, signInOnProviderPages } from "../support/browser.ts";
import { approveDevice } from "../support/interact.ts";
import { DEVICE_GRANT, startProvider, type TestProvider } from "../support/provider.ts";


let provider: TestProvider;
let expiring: TestProvider;
let noDevice: TestProvider;

beforeAll(async () => {
  [provider, expiring, noDevice] = await Promise.all([
    startProvider({ deviceInterval: 1 }),
    startProvider({ deviceInterval: 1, deviceCodeTtl: 2 }),
    startProvider({ deviceFlow: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([provider?.close(), expiring?.close(), noDevice?.close()]);
});

function newAuth(issuer = provider.issuer) {
  return new CliAuth({ issuer, clientId: "cli", service: "cli-auth-test", storage: "memory", allowInsecureRequests: true });
}

function deviceLogin(auth: CliAuth, options: LoginOptions & { onDeviceCode: (info: DeviceCodeInfo) => void }) {
  return auth.login({ flow: "device", openBrowser: false, ...options });
}

describe.concurrent("login({ flow: \"device\" })", () => {
  it("returns tokens once a second client approves the code", async () => {
    const auth = newAuth();
    let shown: DeviceCodeInfo | undefined;
    const result = await deviceLogin(auth, {
      onDeviceCode: (info) => {
        shown = info;
        void approveDevice(provider.issuer, info.userCode, { login: "carol" });
      },
    });
    expect(result.flow).toBe("device");
    expect(result.tokens.accessToken).toBeTruthy();
    expect(result.tokens.refreshToken).toBeTruthy();
    expect(result.user?.sub).toBe("carol");
    expect(shown?.verificationUri).toBe(`${provider.issuer}/device`);
    expect(shown?.verificationUriComplete).toContain("user_code=");
    expect((await auth.getSession())?.flow).toBe("device");
  });

  it("returns tokens once headless Chromium enters the user code", async () => {
    const chromium = await launchChromium();
    try {
      const auth = newAuth();
      const result = await deviceLogin(auth, {
        onDeviceCode: (info) => {
          void (async () => {
            const page = await chromium.newPage();
            await page.goto(info.verificationUri);
            await page.locator('input[name="user_code"]').fill(info.userCode);
            await page.locator('button[type="submit"], [type="submit"]').first().click();
            await page.locator('button[autofocus][type="submit"]').click();
            await signInOnProviderPages(page, { login: "dave" });
          })();
        },
      });
      expect(result.user?.sub).toBe("dave");
    } finally {
      await chromium.close();
    }
  });

  it("adds 5 s to the polling interval on slow_down", async () => {
    const slow = await startProvider({ deviceInterval: 1 });
    try {
      await slow.slowDown(1);
      const auth = newAuth(slow.issuer);
      const result = await deviceLogin(auth, {
        onDeviceCode: (info) => {
          // Approve after the first poll, so that it is the one answered with slow_down.
          setTimeout(() => void approveDevice(slow.issuer, info.userCode), 1_500);
        },
      });
      expect(result.tokens.accessToken).toBeTruthy();
      const requests = await slow.requests();
      const authorization = requests.find((r) => r.path === "/device/auth")!;
      const polls = requests.filter((r) => r.path === "/token" && r.grantType === DEVICE_GRANT);
      expect(polls.map((p) => p.error ?? "ok")).toEqual(["slow_down", "ok"]);
      // interval 1 s before the first poll, then 1 + 5 s after slow_down.
      expect(polls[0]!.time - authorization.time).toBeGreaterThanOrEqual(950);
      expect(polls[0]!.time - authorization.time).toBeLessThan(2_500);
      expect(polls[1]!.time - polls[0]!.time).toBeGreaterThanOrEqual(5_950);
      expect(polls[1]!.time - polls[0]!.time).toBeLessThan(7_500);
    } finally {
      await slow.close();
    }
  });

  it("ends with access_denied when the user declines", async () => {
    const auth = newAuth();
    const error = await deviceLogin(auth, {
      onDeviceCode: (info) => void approveDevice(provider.issuer, info.userCode, { deny: true }),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(CliAuthError);
    expect((error as CliAuthError).code).toBe("access_denied");
    expect(await auth.getSession()).toBeNull();
  });

  it("ends with device_code_expired when nobody approves in time", async () => {
    const auth = newAuth(expiring.issuer);
    // Timed from the code's issue (discovery and the device request before it are not the point, and take seconds
    // on a loaded machine): a 2-s code and 1-s polls end soon after expiry, not at the login's 5-minute timeout.
    let issued = Number.NaN;
    const error = await deviceLogin(auth, { onDeviceCode: () => void (issued = performance.now()) }).catch((e) => e);
    expect((error as CliAuthError).code).toBe("device_code_expired");
    expect(performance.now() - issued).toBeLessThan(6_000);
  });

  it("ends with login_cancelled on abort, with no poll after the abort", async () => {
    const own = await startProvider({ deviceInterval: 1 });
    try {
      const auth = newAuth(own.issuer);
      const controller = new AbortController();
      let abortedAt = 0;
      const error = await deviceLogin(auth, {
        signal: controller.signal,
        onDeviceCode: () => {
          setTimeout(() => {
            abortedAt = Date.now();
            controller.abort();
          }, 1_500);
        },
      }).catch((e) => e);
      expect((error as CliAuthError).code).toBe("login_cancelled");
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      const polls = (await own.requests()).filter((r) => r.path === "/token");
      expect(polls.length).toBe(1);
      expect(polls.every((p) => p.time <= abortedAt)).toBe(true);
    } finally {
      await own.close();
    }
  });

  it("ends with login_timeout when the whole login runs out of time", async () => {
    const auth = newAuth();
    const error = await deviceLogin(auth, { timeoutMs: 1_500, onDeviceCode: () => {} }).catch((e) => e);
    expect((error as CliAuthError).code).toBe("login_timeout");
  });

  it("gives unsupported_flow with a hint when the server has no device endpoint", async () => {
    const auth = newAuth(noDevice.issuer);
    const error = await deviceLogin(auth, { onDeviceCode: () => {} }).catch((e) => e);
    expect((error as CliAuthError).code).toBe("unsupported_flow");
    expect((error as CliAuthError).hint).toMatch(/browser/);
  });
});
