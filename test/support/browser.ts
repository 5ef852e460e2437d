// A real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, with every request that does not
// go to a loopback address aborted (the provider's pages import a web font from the internet).
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export interface TestBrowser {
  browser: Browser;
  /** A page in a fresh context (no cookies: every login starts signed out at the provider). */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface ChromiumOptions {
  /**
   * The proxy Chromium reaches `hosts` through (a provider under a name only that proxy resolves); their
   * certificates are then accepted whoever signed them. Chromium never sends loopback through a proxy.
   */
  proxy?: { server: string; hosts: readonly string[] };
}

export async function launchChromium(options: ChromiumOptions = {}): Promise<TestBrowser> {
  const { proxy } = options;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    headless: true,
    ...(proxy ? { proxy: { server: proxy.server } } : {}),
  });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async newPage() {
      const context = await browser.newContext({ ignoreHTTPSErrors: Boolean(proxy) });
      contexts.push(context);
      await context.route("**/*", (route) => {
        const { hostname } = new URL(route.request().url());
        if (hostname === "127.0.0.1" || hostname === "[::1]" || hostname === "::1") return route.continue();
        if (proxy?.hosts.includes(hostname)) return route.continue();
        return route.abort();
      });
      return await context.newPage();
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close().catch(() => {});
    },
  };
}

/** Signs in and consents on the test provider's pages, as a user would. */
export async function signInOnProviderPages(page: Page, options: { login?: string; deny?: boolean } = {}): Promise<void> {
  await page.locator('input[name="login"]').fill(options.login ?? "alice");
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();
  await page.waitForURL(/\/interaction\//);
  await page.locator('input[name="prompt"][value="consent"]').waitFor({ state: "attached" });
  if (options.deny) {
    await page.locator('a[href$="/abort"]').click();
  } else {
    await page.locator('button[type="submit"]').click();
  }
}
