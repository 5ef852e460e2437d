// A scripted user for the test provider's login and consent pages over plain HTTP: follows redirects by hand with a
// cookie jar, fills and submits the forms the provider renders. Protocol tests need no browser with it.

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/** A cookie jar with path matching: enough for one provider on one host. */
class CookieJar {
  #cookies: Cookie[] = [];

  store(response: Response, url: URL): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = url.pathname.replace(/\/[^/]*$/, "") || "/";
      let expired = false;
      for (const attribute of attributes) {
        const [key = "", val = ""] = attribute.split("=");
        if (key.toLowerCase() === "path") path = val;
        if (key.toLowerCase() === "expires" && Date.parse(val) < Date.now()) expired = true;
        if (key.toLowerCase() === "max-age" && Number(val) <= 0) expired = true;
      }
      this.#cookies = this.#cookies.filter((c) => !(c.name === name && c.path === path));
      if (!expired) this.#cookies.push({ name, value, path });
    }
  }

  header(url: URL): string {
    return this.#cookies
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`) || c.path === "/")
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  }
}

interface Form {
  action: string;
  method: string;
  fields: URLSearchParams;
  html: string;
}

const decode = (value: string) =>
  value.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">");

function parseForms(html: string): Form[] {
  const forms: Form[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attributes = match[1] ?? "";
    const body = match[2] ?? "";
    const action = decode(/action="([^"]*)"/i.exec(attributes)?.[1] ?? "");
    const method = (/method="([^"]*)"/i.exec(attributes)?.[1] ?? "get").toLowerCase();
    const fields = new URLSearchParams();
    for (const input of body.matchAll(/<input\b([^>]*)>/gi)) {
      const attrs = input[1] ?? "";
      const name = /name="([^"]*)"/i.exec(attrs)?.[1];
      if (!name) continue;
      fields.set(name, decode(/value="([^"]*)"/i.exec(attrs)?.[1] ?? ""));
    }
    forms.push({ action, method, fields, html: match[0] });
  }
  return forms;
}

/** What the scripted user does on each page. */
export interface UserScript {
  /** The account to sign in as (any name works on the test provider). */
  login?: string;
  /** Decline at the consent (code flow) or confirmation (device flow) step. */
  deny?: boolean;
}

/** A browser-less session against one provider. */
export class ScriptedUser {
  readonly jar = new CookieJar();
  readonly visited: string[] = [];
  readonly #fetch: typeof fetch;

  /** `fetchImpl`: how the user's machine reaches the provider (default: the global `fetch`). */
  constructor(fetchImpl: (input: URL, init: RequestInit) => Promise<Response> = (input, init) => fetch(input, init)) {
    this.#fetch = fetchImpl as typeof fetch;
  }

  async #request(url: URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.jar.header(url);
    if (cookie) headers.set("cookie", cookie);
    const response = await this.#fetch(url, { ...init, headers, redirect: "manual" });
    this.jar.store(response, url);
    this.visited.push(`${init.method ?? "GET"} ${url.pathname}`);
    return response;
  }

  /**
   * Walks from `start` through redirects and forms until a redirect leaves the provider's origin (the callback);
   * returns that URL without requesting it, or the last page when the flow ends on the provider (device flow).
   */
  async run(start: string | URL, script: UserScript = {}): Promise<{ callback?: URL; page?: string }> {
    let url = new URL(start);
    const origin = url.origin;
    let init: RequestInit = {};
    let aborted = false;
    for (let step = 0; step < 30; step++) {
      const response = await this.#request(url, init);
      init = {};
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        const next = new URL(location, url);
        if (next.origin !== origin) return { callback: next };
        url = next;
        continue;
      }
      const html = await response.text();
      if (response.status >= 400) throw new Error(`provider answered ${response.status} at ${url.pathname}: ${html.slice(0, 500)}`);
      const forms = parseForms(html);
      const form = forms[0];
      if (!form || aborted) return { page: html };
      const fields = new URLSearchParams(form.fields);
      const prompt = fields.get("prompt");
      if (prompt === "login") {
        fields.set("login", script.login ?? "alice");
        fields.set("password", "any");
      } else if (prompt === "consent" && script.deny) {
        // The dev consent page offers "[ Cancel ]" as a link to the abort URL.
        const abort = /href="([^"]*\/abort)"/.exec(html)?.[1];
        if (!abort) throw new Error("no abort link on the consent page");
        url = new URL(decode(abort), url);
        continue;
      } else if (form.html.includes("op.deviceConfirmForm") || /id="op\.deviceConfirmForm"/.test(form.html)) {
        if (script.deny) {
          fields.delete("confirm");
          fields.set("abort", "yes");
          aborted = true;
        } else {
          fields.set("confirm", "yes");
        }
      }
      url = new URL(form.action || url.href, url);
      if (form.method === "post") {
        init = { method: "POST", body: fields, headers: { "content-type": "application/x-www-form-urlencoded" } };
      } else {
        for (const [key, value] of fields) url.searchParams.set(key, value);
      }
    }
    throw new Error(`no end after 30 steps: ${this.visited.join(" -> ")}`);
  }
}

/**
 * Completes login and consent for an authorization URL; returns the redirect (callback) URL the browser would load.
 */
export async function authorizeWithoutBrowser(authorizationUrl: string | URL, script: UserScript = {}): Promise<URL> {
  const { callback, page } = await new ScriptedUser().run(authorizationUrl, script);
  if (!callback) throw new Error(`the flow ended on a provider page, not the callback:\n${page?.slice(0, 500)}`);
  return callback;
}

/**
 * Approves (or denies) a device code at the provider, as the user would on another device.
 * Resolves with the provider's final page.
 */
export async function approveDevice(
  issuer: string,
  userCode: string,
  script: UserScript = {},
  fetchImpl?: (input: URL, init: RequestInit) => Promise<Response>,
): Promise<string> {
  const url = new URL("/device", issuer);
  url.searchParams.set("user_code", userCode);
  const { page } = await new ScriptedUser(fetchImpl).run(url, script);
  return page ?? "";
}
