// End to end: login({ flow: "browser" }) with a real headless Chromium clicking through the real provider's login
// and consent pages, on the runtime running this test.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth, CliAuthError } from "../../mod.ts";
import { launchChromium, signInOnProviderPages, type TestBrowser } from "../support/browser.ts";
import { isListening } from "../support/raw_http.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";

let provider: TestProvider;
let chromium: TestBrowser;

beforeAll(async () => {
  [provider, chromium] = await Promise.all([startProvider(), launchChromium()]);
});
afterAll(async () => {
  await Promise.all([provider?.close(), chromium?.close()]);
});

function newAuth() {
  return new CliAuth({
    issuer: provider.issuer,
    clientId: "cli",
    service: "cli-auth-test",
    storage: "memory",
    allowInsecureRequests: true,
  });
}

describe("login({ flow: \"browser\" }) in a real browser", () => {
  it("resolves with tokens and the user after the browser signs in, and the page arrives first", async () => {
    const auth = newAuth();
    let page: Page | undefined;
    let printed = "";
    let browserDone: Promise<void> = Promise.resolve();
    const result = await auth.login({
      flow: "browser",
      onAuthorizationUrl: (url) => void (printed = url),
      openBrowser: (url) => {
        browserDone = (async () => {
          page = await chromium.newPage();
          await page.goto(url);
          await signInOnProviderPages(page, { login: "alice" });
          await page.getByText("You are signed in").waitFor();
        })();
      },
    });
    const loginResolvedAt = performance.timeOrigin + performance.now();
    await browserDone;
    expect(result.flow).toBe("browser");
    expect(result.tokens.accessToken).toBeTruthy();
    expect(result.tokens.refreshToken).toBeTruthy();
    expect(result.user?.sub).toBe("alice");
    expect(result.user?.email).toBe("alice@example.test");
    expect(printed).toContain(`${provider.issuer}/auth?`);
    expect(new URL(printed).searchParams.get("code_challenge_method")).toBe("S256");

    // The success page was fully received by the browser before login() resolved.
    const callbackUrl = new URL(page!.url());
    expect(callbackUrl.hostname).toBe("127.0.0.1");
    const pageReceivedAt = await page!.evaluate(() => {
      const [navigation] = performance.getEntriesByType("navigation") as PerformanceNavigationTiming[];
      return performance.timeOrigin + navigation!.responseEnd;
    });
    expect(pageReceivedAt).toBeLessThan(loginResolvedAt);
    expect(await page!.title()).toBe("Signed in");
    // The listener is gone.
    expect(await isListening(Number(callbackUrl.port))).toBe(false);
    const session = await auth.getSession();
    expect(session?.tokens.accessToken).toBe(result.tokens.accessToken);
    await page!.close();
  });

  it("ends with access_denied when the user declines, and the browser sees the error page", async () => {
    const auth = newAuth();
    let page: Page | undefined;
    const error = await auth.login({
      flow: "browser",
      onAuthorizationUrl: () => {},
      openBrowser: async (url) => {
        page = await chromium.newPage();
        await page.goto(url);
        await signInOnProviderPages(page, { login: "alice", deny: true });
      },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(CliAuthError);
    expect((error as CliAuthError).code).toBe("access_denied");
    await page!.getByText("Sign-in was declined").waitFor();
    expect(await auth.getSession()).toBeNull();
    await page!.close();
  });

  it("ends with login_timeout when nobody signs in, closing the listener", async () => {
    const auth = newAuth();
    let redirect = "";
    const started = performance.now();
    const error = await auth.login({
      flow: "browser",
      openBrowser: false,
      timeoutMs: 400,
      onAuthorizationUrl: (url) => void (redirect = new URL(url).searchParams.get("redirect_uri")!),
    }).catch((e) => e);
    expect((error as CliAuthError).code).toBe("login_timeout");
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(await isListening(Number(new URL(redirect).port))).toBe(false);
  });

  it("ends with login_cancelled when the signal aborts, closing the listener", async () => {
    const auth = newAuth();
    const controller = new AbortController();
    let redirect = "";
    const error = await auth.login({
      flow: "browser",
      openBrowser: false,
      signal: controller.signal,
      onAuthorizationUrl: (url) => {
        redirect = new URL(url).searchParams.get("redirect_uri")!;
        setTimeout(() => controller.abort(), 50);
      },
    }).catch((e) => e);
    expect((error as CliAuthError).code).toBe("login_cancelled");
    expect(await isListening(Number(new URL(redirect).port))).toBe(false);
  });
});
