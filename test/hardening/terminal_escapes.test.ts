// Server text that would drive the user's terminal: an authorization server (behind fault_proxy.ts) and an API
// that put ESC, BEL, CR and C1 controls into every string the library prints or copies into an error —
// verification_uri, verification_uri_complete, user_code, error, error_description, a challenge's scope and
// acr_values. OSC 52
// would write the clipboard, CSI 2K / CR would erase the line to fake a prompt. Nothing of it may reach stderr
// (except the library's own newlines) or an error's message, hint, fields or JSON.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform } from "../../adapters/mod.ts";
import { CliAuth, type CliAuthError, type CliAuthOptions, type DeviceCodeInfo } from "../../mod.ts";
import { formatDeviceCode } from "../../src/mod.ts";
import { countingStore, loginWithoutBrowser, testOptions } from "../support/login.ts";
import { rejection } from "../support/reject.ts";
import { type FaultyProvider, type Rule, startFaultyProvider } from "./fault_proxy.ts";

/** OSC 52 clipboard write (BEL-terminated), erase line, CR, cursor up, C1 CSI, C1 OSC … ST, NUL, DEL. */
const ESCAPES = "\u001b]52;c;ZXZpbA==\u0007\u001b[2K\r\u001b[1Afake$ \u009b31m\u009d0;title\u009c\u0000\u007f";
/** Any C0 control but the line feed, DEL, any C1 control. */
// deno-lint-ignore no-control-regex
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
// deno-lint-ignore no-control-regex
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

let faulty: FaultyProvider;
let api: Server;
let apiOrigin: string;

beforeAll(async () => {
  faulty = await startFaultyProvider({ deviceInterval: 1 });
  // An API that refuses with 403 and names scopes holding C1 controls (a header carries bytes 0x80–0xff as
  // Latin-1; ESC itself cannot be sent in a header) and the token it was sent; on /step-up, a step-up challenge
  // (RFC 9470) whose acr_values do the same and whose max_age is not a whole number.
  api = createServer((req, res) => {
    const token = (req.headers.authorization ?? "").split(" ")[1] ?? "";
    if (req.url === "/step-up") {
      res.setHeader(
        "www-authenticate",
        `Bearer error="insufficient_user_authentication", acr_values="urn:test:mfa\x9b2K\x9d52;c;x\x9c urn:${token}", max_age="1.5"`,
      );
      res.writeHead(401).end();
      return;
    }
    res.setHeader("www-authenticate", `Bearer error="insufficient_scope", scope="api:read \x9b2K\x9d52;c;x\x9c api:${token}"`);
    res.writeHead(403).end();
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  apiOrigin = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => api?.close(resolve));
  await faulty?.close();
});

function capture(extra: Partial<CliAuthOptions> = {}) {
  const stderr: string[] = [];
  const platform = async () => {
    const real = await createPlatform();
    return { ...real, terminal: { ...real.terminal, writeStderr: (text: string) => void stderr.push(text) } };
  };
  const auth = new CliAuth(testOptions(faulty.issuer, { storage: countingStore(), timeoutMs: 5_000, platform, ...extra }));
  return { auth, stderr };
}

/** The texts an error is shown as, each of which must be free of controls. */
function shownTexts(error: CliAuthError): [string, string][] {
  const texts: [string, string][] = [
    ["message", error.message],
    ["hint", error.hint ?? ""],
    ["error", error.error ?? ""],
    ["errorDescription", error.errorDescription ?? ""],
    ["scopes", (error.scopes ?? []).join(" ")],
    ["acrValues", (error.acrValues ?? []).join(" ")],
    ["JSON.stringify", JSON.stringify(error)],
    ["String", String(error)],
  ];
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 8; depth++, cause = cause.cause) texts.push([`cause ${depth}`, cause.message]);
  return texts;
}

function expectNoControls(error: CliAuthError): void {
  expect(shownTexts(error).filter(([, text]) => ANY_CONTROL.test(text)).map(([where]) => where)).toEqual([]);
}

const hostileDevice: Rule = {
  path: "/device/auth",
  fault: {
    kind: "edit-json",
    edit: (json) => ({
      ...json,
      user_code: `${json.user_code}${ESCAPES}`,
      verification_uri: `${json.verification_uri}${ESCAPES}`,
      verification_uri_complete: `${json.verification_uri_complete}${ESCAPES}`,
    }),
  },
};

const deniedWithEscapes: Rule = {
  path: "/token",
  fault: {
    kind: "respond",
    status: 400,
    contentType: "application/json",
    body: JSON.stringify({ error: "access_denied", error_description: `denied ${ESCAPES} by policy` }),
  },
};

describe("server text never reaches the terminal raw", () => {
  it("device login: escapes in verification_uri(_complete), user_code and error_description", async () => {
    faulty.setRules([hostileDevice, deniedWithEscapes]);
    const { auth, stderr } = capture();
    const error = await rejection(auth.login({ flow: "device", openBrowser: false }));
    faulty.setRules([]);
    expect(error.code).toBe("access_denied");
    const printed = stderr.join("");
    expect(printed.match(CONTROL_BUT_NEWLINE)).toBeNull();
    // The block was printed, with the server's strings in it minus their controls.
    expect(printed).toContain("and enter the code:");
    expect(printed).toMatch(/\/device\]52;c;ZXZpbA==\[2K \[1Afake\$ 31m0;title/);
    expect(error.errorDescription).toBe("denied ]52;c;ZXZpbA==[2K [1Afake$ 31m0;title by policy");
    expectNoControls(error);
  });

  it("device login: what onDeviceCode and openBrowser are handed is clean too", async () => {
    faulty.setRules([hostileDevice, deniedWithEscapes]);
    const { auth } = capture();
    let shown: DeviceCodeInfo | undefined;
    const opened: string[] = [];
    const error = await rejection(auth.login({
      flow: "device",
      onDeviceCode: (info) => void (shown = info),
      openBrowser: (url) => void opened.push(url),
    }));
    faulty.setRules([]);
    expect(error.code).toBe("access_denied");
    expect(shown).toBeDefined();
    for (const value of [shown!.userCode, shown!.verificationUri, shown!.verificationUriComplete ?? "", ...opened]) {
      expect(value).not.toMatch(ANY_CONTROL);
    }
    expect(opened).toHaveLength(1);
  });

  it("formatDeviceCode(): prints an application's raw DeviceCodeInfo without its controls", () => {
    const printed = formatDeviceCode({
      userCode: `ABCD-EFGH${ESCAPES}`,
      verificationUri: `https://auth.example.com/device${ESCAPES}`,
      verificationUriComplete: `https://auth.example.com/device?user_code=ABCD-EFGH${ESCAPES}`,
      expiresIn: 600,
    });
    expect(printed.match(CONTROL_BUT_NEWLINE)).toBeNull();
    expect(printed).toContain("  ABCD-EFGH]52;c;ZXZpbA==[2K [1Afake$ 31m0;title\n");
  });

  it("device login: an error answer of the device authorization endpoint, its error code included", async () => {
    faulty.setRules([{
      path: "/device/auth",
      fault: {
        kind: "respond",
        status: 400,
        contentType: "application/json",
        body: JSON.stringify({ error: `invalid_client${ESCAPES}`, error_description: `no ${ESCAPES}` }),
      },
    }]);
    const { auth, stderr } = capture();
    const error = await rejection(auth.login({ flow: "device", openBrowser: false }));
    faulty.setRules([]);
    expect(error.error).toBe("invalid_client]52;c;ZXZpbA==[2K [1Afake$ 31m0;title");
    expectNoControls(error);
    expect(stderr.join("").match(CONTROL_BUT_NEWLINE)).toBeNull();
  });

  it("browser login: an error redirect whose error_description holds escapes", async () => {
    const { auth, stderr } = capture();
    let page: Promise<string> | undefined;
    const error = await rejection(auth.login({
      flow: "browser",
      openBrowser: (url) => {
        // What the authorization server redirects the browser to after a refusal.
        const authorization = new URL(url);
        const callback = new URL(authorization.searchParams.get("redirect_uri")!);
        callback.searchParams.set("error", "access_denied");
        callback.searchParams.set("error_description", `denied ${ESCAPES}`);
        callback.searchParams.set("state", authorization.searchParams.get("state")!);
        callback.searchParams.set("iss", faulty.issuer);
        page = fetch(callback).then((response) => response.text());
      },
    }));
    expect(error.code).toBe("access_denied");
    expectNoControls(error);
    expect(stderr.join("").match(CONTROL_BUT_NEWLINE)).toBeNull();
    // The page the browser got shows the same clean text.
    expect(await page).toContain("denied ]52;c;ZXZpbA==[2K [1Afake$ 31m0;title");
  });

  it("auth.fetch: an API's 403 challenge naming scopes with C1 controls (and the token) gives a clean error and hint", async () => {
    const { auth } = capture({ apiOrigins: [apiOrigin], scopes: ["openid", "offline_access"] });
    const { tokens } = await loginWithoutBrowser(auth);
    const error = await rejection(auth.fetch(`${apiOrigin}/projects`));
    expect(error.code).toBe("insufficient_scope");
    expect(error.scopes).toContain("api:read");
    expect(error.hint).toContain("api:read");
    expectNoControls(error);
    expect(shownTexts(error).filter(([, text]) => text.includes(tokens.accessToken)).map(([where]) => where)).toEqual([]);
  });

  it("auth.fetch: an API's step-up challenge whose acr_values hold C1 controls (and the token) gives a clean error and hint", async () => {
    const { auth } = capture({ apiOrigins: [apiOrigin], scopes: ["openid", "offline_access"] });
    const { tokens } = await loginWithoutBrowser(auth);
    const error = await rejection(auth.fetch(`${apiOrigin}/step-up`));
    expect(error.code).toBe("step_up_required");
    expect(error.acrValues?.[0]).toMatch(/^urn:test:mfa/);
    expect(error.hint).toContain("urn:test:mfa");
    // max_age="1.5" is not a whole number of seconds: left out rather than guessed.
    expect(error.maxAge).toBeUndefined();
    expectNoControls(error);
    expect(shownTexts(error).filter(([, text]) => text.includes(tokens.accessToken)).map(([where]) => where)).toEqual([]);
  });
});
