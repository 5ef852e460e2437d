// No secret leaks, in process: every failing path of login (browser and paste), refresh, whoami and logout runs
// with known values — a client secret, the authorization codes and PKCE verifiers the library really sent, the
// access, refresh and ID tokens the provider really issued, and planted tokens the provider does not know — and
// every error it produces (message, hint, server fields, the whole cause chain, JSON.stringify, String(),
// util.inspect with hidden properties) and everything given to the logger is searched for them. Servers that
// repeat the request in their error description or challenge are among the failures.
// (What a CLI process prints, and the argv of what the library spawns, are covered by secret_leaks_process.test.ts.)
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPlatform } from "../../adapters/mod.ts";
import { CliAuth, type CliAuthOptions } from "../../mod.ts";
import { approveDevice, authorizeWithoutBrowser } from "../support/interact.ts";
import { countingStore, loginWithoutBrowser, PENDING_LOGIN_KEY, testOptions } from "../support/login.ts";
import { startForwardProxy } from "../support/forward_proxy.ts";
import { type Fault, type FaultyProvider, startFaultyProvider } from "./fault_proxy.ts";
import { errorTexts, SecretSet } from "./secrets.ts";
import { rejection } from "../support/reject.ts";

const CLIENT_ID = "leaky-cli";
const CLIENT_SECRET = "cs-LEAK-installed-app-secret-0123456789abcdef";
const PLANTED_ACCESS = "at-LEAK-planted-access-token-0123456789abcdef";
const PLANTED_REFRESH = "rt-LEAK-planted-refresh-token-0123456789abcdef";
const TIMEOUT_MS = 600;

let faulty: FaultyProvider;
const secrets = new SecretSet();
/** Everything that was shown: error texts and logger lines, each with where it came from. */
const shown: { where: string; text: string }[] = [];
const logger = { warn: (message: string) => void shown.push({ where: "logger.warn", text: message }) };

beforeAll(async () => {
  faulty = await startFaultyProvider({
    extraClients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      application_type: "native",
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: ["http://127.0.0.1/callback"],
    }],
  });
  secrets.add("client secret", CLIENT_SECRET);
  secrets.add("planted access token", PLANTED_ACCESS);
  secrets.add("planted refresh token", PLANTED_REFRESH);
});
afterAll(async () => {
  await faulty?.close();
});
beforeEach(() => {
  shown.length = 0;
});

function options(store: ReturnType<typeof countingStore>, extra: Partial<CliAuthOptions> = {}): CliAuthOptions {
  return testOptions(faulty.issuer, {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    storage: store,
    timeoutMs: TIMEOUT_MS,
    logger,
    ...extra,
  });
}

/** Runs `operation`, which must fail, and keeps every text its error can be shown as. */
async function shownFailure(where: string, operation: () => Promise<unknown>): Promise<void> {
  const error = await operation().then(() => undefined, (e) => e);
  expect(error, `${where} should have failed`).toBeDefined();
  for (const text of errorTexts(error)) shown.push({ where, text });
}

function expectNothingShownLeaks(): void {
  secrets.addTraffic(faulty.seen);
  expect(secrets.size).toBeGreaterThan(10);
  const leaks = shown.flatMap(({ where, text }) => secrets.foundIn(text).map((label) => `${label} in ${where}`));
  expect([...new Set(leaks)]).toEqual([]);
}

async function sessionStore() {
  const store = countingStore();
  await loginWithoutBrowser(new CliAuth(options(store)));
  return store;
}

function plantedStore(seed: string, refreshToken = PLANTED_REFRESH) {
  const store = countingStore();
  const session = JSON.parse(seed);
  session.tokens.accessToken = PLANTED_ACCESS;
  session.tokens.refreshToken = refreshToken;
  store.values.set("default", JSON.stringify(session));
  return store;
}

const tokenFaults: [string, Fault][] = [
  ["a 400 repeating the request", { kind: "reflect", status: 400, error: "invalid_grant" }],
  ["a 401 challenge repeating the request", { kind: "reflect", status: 401, error: "invalid_client", challenge: true }],
  ["a 200 error body repeating the request", { kind: "reflect", status: 200, error: "invalid_request" }],
  ["a 502 page", { kind: "respond", status: 502, body: "<h1>502</h1>" }],
  ["invalid JSON", { kind: "respond", status: 200, body: '{"access_token":', contentType: "application/json" }],
  ["tokens without access_token", { kind: "edit-json", edit: ({ access_token: _, ...rest }) => rest }],
  ['tokens with token_type "mac"', { kind: "edit-json", edit: (json) => ({ ...json, token_type: "mac" }) }],
  ["tokens with a broken ID token", { kind: "edit-json", edit: (json) => ({ ...json, id_token: "e30.e30.x" }) }],
  ["a reset mid-body", { kind: "reset-mid-body" }],
  ["no answer", { kind: "no-answer" }],
  ["a 10 MB body", { kind: "huge", bytes: 10 * 1024 * 1024, declareLength: false }],
];

describe("no secret in any error or log line", () => {
  it("login(): every failure of the code exchange", async () => {
    for (const [name, fault] of tokenFaults) {
      const auth = new CliAuth(options(countingStore()));
      await shownFailure(`login, exchange: ${name}`, () =>
        auth.login({
          flow: "browser",
          onAuthorizationUrl: () => {},
          openBrowser: async (url) => {
            const callback = await authorizeWithoutBrowser(url);
            faulty.setRules([{ path: "/token", fault }]);
            await (await fetch(callback)).text();
          },
        }));
      faulty.setRules([]);
    }
    expectNothingShownLeaks();
  });

  it("login({ flow: \"manual\" }): pasted URLs with another state, another issuer, an error, the code twice", async () => {
    const edits: [string, (callback: URL) => string][] = [
      ["another state", (callback) => {
        callback.searchParams.set("state", "not-the-state-of-this-login");
        return callback.href;
      }],
      ["another issuer", (callback) => {
        callback.searchParams.set("iss", "http://evil.example");
        return callback.href;
      }],
      ["an error instead of the code", (callback) => {
        callback.searchParams.delete("code");
        callback.searchParams.set("error", "access_denied");
        return callback.href;
      }],
      ["the code twice", (callback) => `${callback.href}&code=${callback.searchParams.get("code")}`],
    ];
    for (const [name, edit] of edits) {
      let announce!: (url: string) => void;
      const authorizationUrl = new Promise<string>((resolve) => (announce = resolve));
      const real = await createPlatform();
      const platform = {
        ...real,
        terminal: {
          ...real.terminal,
          readLine: async () => {
            const callback = await authorizeWithoutBrowser(await authorizationUrl);
            secrets.add(`pasted code (${name})`, callback.searchParams.get("code"));
            return edit(callback);
          },
        },
      };
      const auth = new CliAuth(options(countingStore(), { platform }));
      await shownFailure(`manual login: ${name}`, () =>
        auth.login({ flow: "manual", openBrowser: false, onAuthorizationUrl: (url) => announce(url) }));
    }
    expectNothingShownLeaks();
  });

  it("getAccessToken(): every failure of the refresh, and a refresh token the provider does not know", async () => {
    for (const [name, fault] of tokenFaults.filter(([, f]) => f.kind !== "no-answer")) {
      const store = await sessionStore();
      const auth = new CliAuth(options(store));
      await auth.whoami();
      faulty.setRules([{ path: "/token", fault }]);
      await shownFailure(`refresh: ${name}`, () => auth.getAccessToken({ forceRefresh: true }));
      faulty.setRules([]);
    }
    const seed = (await sessionStore()).values.get("default")!;
    await shownFailure("refresh: planted refresh token", () =>
      new CliAuth(options(plantedStore(seed))).getAccessToken({ forceRefresh: true }));
    expectNothingShownLeaks();
  });

  it("whoami(): a planted access token, and a userinfo endpoint that repeats the token back", async () => {
    const seed = (await sessionStore()).values.get("default")!;
    // Planted tokens: userinfo refuses the access token, the refresh that follows refuses the refresh token.
    await shownFailure("whoami: planted tokens", () => new CliAuth(options(plantedStore(seed))).whoami());
    await shownFailure("whoami: --token value", () =>
      new CliAuth(options(countingStore())).whoami({ tokenFromArg: PLANTED_ACCESS }));
    for (const [name, fault] of [
      ["a 401 challenge repeating the request", { kind: "reflect", status: 401, error: "invalid_token", challenge: true }],
      ["a 400 body repeating the request", { kind: "reflect", status: 400, error: "invalid_request" }],
      ["a 403 challenge repeating the request", { kind: "reflect", status: 403, error: "insufficient_scope", challenge: true }],
    ] as [string, Fault][]) {
      const store = await sessionStore();
      const auth = new CliAuth(options(store));
      await auth.whoami();
      faulty.setRules([{ path: "/me", fault }]);
      await shownFailure(`whoami: ${name}`, () => auth.whoami());
      faulty.setRules([]);
    }
    expectNothingShownLeaks();
  });

  it("logout(): a revocation endpoint that repeats the tokens back still signs out, and logs nothing secret", async () => {
    const store = await sessionStore();
    faulty.setRules([{ path: "/token/revocation", fault: { kind: "reflect", status: 400, error: "invalid_request" } }]);
    const result = await new CliAuth(options(store)).logout();
    faulty.setRules([]);
    expect(result).toEqual({ revoked: false, hadSession: true });
    shown.push({ where: "logout result", text: JSON.stringify(result) });
    expectNothingShownLeaks();
  });

  it("beginLogin()/resumeLogin(): the pending login, status(), and every failure of a resume, echoing servers included", async () => {
    // The device grant's client ("cli", public): the pending logins' secrets are the device code and the verifier.
    const agentOptions = (store: ReturnType<typeof countingStore>) =>
      testOptions(faulty.issuer, { storage: store, timeoutMs: TIMEOUT_MS, logger });
    const show = (where: string, value: unknown) => void shown.push({ where, text: JSON.stringify(value) });
    const device = async () => {
      const store = countingStore();
      const auth = new CliAuth(agentOptions(store));
      const pending = await auth.beginLogin();
      show("pending login (device)", pending);
      show("status() with a pending login", await auth.status());
      const secret = JSON.parse(store.values.get(PENDING_LOGIN_KEY)!) as Record<string, string>;
      secrets.add("device code (stored)", secret.deviceCode);
      return { store, auth, pending };
    };
    // A token endpoint that repeats the device code back, in its body and in a challenge; one that fails.
    for (const [name, fault] of tokenFaults.filter(([, f]) => f.kind === "reflect" || f.kind === "respond").concat([
      ["a 400 slow_down repeating the request", { kind: "reflect", status: 400, error: "slow_down" }],
    ] as [string, Fault][])) {
      const { store } = await device();
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      faulty.setRules([{ path: "/token", fault }]);
      const outcome = await new CliAuth(agentOptions(store)).resumeLogin().then((r) => r, (e) => e);
      faulty.setRules([]);
      if (outcome instanceof Error) for (const text of errorTexts(outcome)) shown.push({ where: `resume: ${name}`, text });
      else show(`resume result: ${name}`, outcome);
    }
    // Denied, then expired (its expiry moved into the past), then nothing pending.
    {
      const { store, pending } = await device();
      await approveDevice(faulty.issuer, pending.userCode!, { deny: true });
      await shownFailure("resume: denied", () => new CliAuth(agentOptions(store)).resumeLogin({ wait: true, timeoutMs: 10_000 }));
      await shownFailure("resume: nothing pending", () => new CliAuth(agentOptions(store)).resumeLogin());
      const expired = await device();
      const stale = JSON.parse(expired.store.values.get(PENDING_LOGIN_KEY)!);
      expired.store.values.set(PENDING_LOGIN_KEY, JSON.stringify({ ...stale, expiresAt: Date.now() - 1 }));
      await shownFailure("resume: expired", () => new CliAuth(agentOptions(expired.store)).resumeLogin());
    }
    // Manual: a forged state, another issuer, an error, and a token endpoint repeating the code and verifier.
    const manual = async () => {
      const store = countingStore();
      const pending = await new CliAuth(agentOptions(store)).beginLogin({ flow: "manual" });
      show("pending login (manual)", pending);
      secrets.add("code verifier (stored)", JSON.parse(store.values.get(PENDING_LOGIN_KEY)!).codeVerifier);
      const callback = await authorizeWithoutBrowser(pending.authorizationUrl!);
      secrets.add("pasted code (resume)", callback.searchParams.get("code"));
      return { store, callback };
    };
    for (const [name, edit] of [
      ["another state", (u: URL) => (u.searchParams.set("state", "forged"), u.href)],
      ["another issuer", (u: URL) => (u.searchParams.set("iss", "http://evil.example"), u.href)],
      ["the code twice", (u: URL) => `${u.href}&code=${u.searchParams.get("code")}`],
    ] as [string, (u: URL) => string][]) {
      const { store, callback } = await manual();
      await shownFailure(`resume manual: ${name}`, () => new CliAuth(agentOptions(store)).resumeLogin({ callbackUrl: edit(callback) }));
    }
    {
      const { store, callback } = await manual();
      faulty.setRules([{ path: "/token", fault: { kind: "reflect", status: 400, error: "invalid_grant" } }]);
      await shownFailure("resume manual: an echoing token endpoint", () => new CliAuth(agentOptions(store)).resumeLogin({ callbackUrl: callback.href }));
      faulty.setRules([]);
    }
    expect(secrets.labels()).toEqual(expect.arrayContaining(["device code (stored)", "code verifier (stored)"]));
    expect(shown.some(({ where }) => where === "resume: a 400 repeating the request")).toBe(true);
    expectNothingShownLeaks();
  });

  it("a proxy's credentials: a proxy that is down, one refusing them (407), one that is no http(s) URL", async () => {
    const user = "proxy-user-LEAK";
    const password = "proxy pa$$word:LEAK/0123456789";
    const proxySecrets = new SecretSet();
    proxySecrets.add("proxy password", password);
    proxySecrets.add("proxy user:password", `${user}:${password}`);
    const userinfo = `${user}:${encodeURIComponent(password)}`;
    const refusing = await startForwardProxy({ credentials: "someone:else" });
    try {
      for (const [name, proxy] of [
        ["down", `http://${userinfo}@127.0.0.1:9`],
        ["407", `http://${userinfo}@127.0.0.1:${refusing.port}`],
        ["socks", `socks5://${userinfo}@127.0.0.1:1080`],
        ["not a URL", `http://${user}:${password} @127.0.0.1:1080`],
      ]) {
        const auth = new CliAuth({ issuer: "https://idp.invalid", clientId: CLIENT_ID, service: "cli-auth-test", storage: "memory", proxy, logger, timeoutMs: 2_000 });
        await shownFailure(`proxy ${name}`, () => auth.login({ flow: "device", openBrowser: false, onDeviceCode: () => {} }));
      }
    } finally {
      await refusing.close();
    }
    expect(shown.map((s) => s.where)).toContain("proxy 407");
    const leaks = shown.flatMap(({ where, text }) => proxySecrets.foundIn(text).map((label) => `${label} in ${where}`));
    expect([...new Set(leaks)]).toEqual([]);
  });
});

/** A refresh token with the characters JSON and form encoders rewrite: `/` (`\/`), `+` (`%2B`, `\u002B`). */
const SLASHED_REFRESH = "rt/LEAK+planted/refresh+token/0123456789abcdef";
/** A code shorter than 8 characters, pasted bare: a code can be that short. */
const SHORT_CODE = "k9Q-x2";

const unicodeEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
/** How real encoders write a string the server quotes back (each is still the same JSON once parsed). */
const escapings: [string, (json: string) => string][] = [
  ["\\/ for every / (PHP json_encode)", (json) => json.replaceAll("/", "\\/")],
  ["\\u escapes for + = & % < > ' (as HTML-safe encoders do)", (json) => json.replace(/[+=&%<>']/g, unicodeEscape)],
  ["every letter and digit as a \\u escape", (json) => json.replace(/[A-Za-z0-9]/g, unicodeEscape)],
];

describe("no secret in any error when the server echoes it escaped", () => {
  it("getAccessToken(): an invalid_request quoting the refresh token, escaped three ways, in error_description and scope", async () => {
    const seed = (await sessionStore()).values.get("default")!;
    secrets.add("planted refresh token with / and +", SLASHED_REFRESH);
    for (const [name, escape] of escapings) {
      faulty.setRules([{ path: "/token", fault: { kind: "reflect", status: 400, error: "invalid_request", alsoIn: ["scope"], escape } }]);
      const auth = new CliAuth(options(plantedStore(seed, SLASHED_REFRESH)));
      const error = await rejection(auth.getAccessToken({ forceRefresh: true }));
      faulty.setRules([]);
      // The server's answer was read (its code and its text), with only the secrets taken out.
      expect(error.code, name).toBe("invalid_request");
      expect(error.errorDescription, name).toMatch(/^refused: .*\[redacted\]/);
      expect(error.message, name).toContain("[redacted]");
      for (const text of errorTexts(error)) shown.push({ where: `refresh, echo with ${name}`, text });
    }
    expectNothingShownLeaks();
  });

  it("getAccessToken(): a 401 challenge quoting the request with every character a quoted-pair (\\x)", async () => {
    const seed = (await sessionStore()).values.get("default")!;
    secrets.add("planted refresh token with / and +", SLASHED_REFRESH);
    faulty.setRules([{
      path: "/token",
      fault: { kind: "reflect", status: 401, error: "invalid_client", challenge: true, escapeChallenge: (q) => q.replace(/[^ ]/g, "\\$&") },
    }]);
    const error = await rejection(new CliAuth(options(plantedStore(seed, SLASHED_REFRESH))).getAccessToken({ forceRefresh: true }));
    faulty.setRules([]);
    expect(error.errorDescription).toContain("[redacted]");
    for (const text of errorTexts(error)) shown.push({ where: "refresh, challenge with quoted-pairs", text });
    expectNothingShownLeaks();
  });

  it("login({ flow: \"manual\" }): a short pasted code echoed escaped is redacted wherever it stands as a word", async () => {
    for (const [name, escape] of escapings) {
      const real = await createPlatform();
      const platform = { ...real, terminal: { ...real.terminal, readLine: () => Promise.resolve(SHORT_CODE) } };
      const auth = new CliAuth(options(countingStore(), { platform }));
      faulty.setRules([{ path: "/token", fault: { kind: "reflect", status: 400, error: "invalid_grant", escape } }]);
      const error = await rejection(auth.login({ flow: "manual", openBrowser: false, onAuthorizationUrl: () => {} }));
      faulty.setRules([]);
      expect(error.code, name).toBe("invalid_grant");
      expect(error.errorDescription, name).toMatch(/^refused: .*code=\[redacted\]/);
      const asWord = new RegExp(`(?<![A-Za-z0-9])${SHORT_CODE}(?![A-Za-z0-9])`);
      expect(errorTexts(error).filter((text) => asWord.test(text)), name).toEqual([]);
    }
  });
});
