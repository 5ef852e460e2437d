// Property-based fuzzing of the loopback listener on real sockets, on whichever runtime runs this file (Deno.serve,
// Bun.serve or node:http): request lines, paths, query strings (repeated, missing, oversized and non-UTF-8
// parameters), Host variants and huge or odd headers, sent as raw bytes. The properties:
//   - the listener never crashes: every request gets an HTTP answer or a closed connection, and it keeps listening;
//   - a login only ever resolves for a GET with the right Host, exactly one `state` equal to this login's and
//     exactly one `code`;
//   - a request without the right state (or Host, method, path) leaves the login waiting: it neither resolves nor
//     ends it;
//   - a clean, correct callback resolves with its code.
// `npm test` runs FUZZ_RUNS (default 150) cases; `npm run test:fuzz` runs many more. FUZZ_SEED replays a failure.
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { startLoopbackServer } from "../../adapters/mod.ts";
import type { LoopbackServer } from "../../mod.ts";
import { createProtocolContext, validateCallback } from "../../src/mod.ts";
import { settledState } from "../support/promise_state.ts";
import { isListening } from "../support/raw_http.ts";
import { exchange } from "./net.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const STATE = "Zm9vYmFyLXN0YXRlLW9mLXRoaXMtbG9naW4tMTIzNDU"; // 43 base64url characters, like createPkce()'s
const ISSUER = "http://127.0.0.1:9/";
// The same validation the browser login uses (state, RFC 9207 iss, error=): nothing the fuzzer sends gets past it
// any easier than past the listener alone.
const context = createProtocolContext({ issuer: ISSUER, authorization_endpoint: `${ISSUER}authorize` }, { clientId: "cli" });

// ---- What a case is made of -------------------------------------------------------------------------------------

type HostKind =
  | "right"
  | "right-padded"
  | "missing"
  | "no-port"
  | "other-port"
  | "localhost"
  | "ipv6"
  | "evil"
  | "suffix"
  | "userinfo"
  | "decimal"
  | "octal"
  | "duplicate"
  | "trailing-dot"
  | "empty";

interface Case {
  method: string;
  version: string;
  pathKind: string;
  query: [string, string][];
  /** How the query is put on the wire: encoded, raw (bytes as they are), or doubled (`?a&&b`). */
  queryStyle: "encoded" | "raw";
  host: HostKind;
  hostHeaderName: string;
  extraHeaders: [string, string][];
  /** Bytes of filler in one header (0: none). */
  hugeHeader: number;
  keepAlive: boolean;
}

const nonUtf8 = fc.constantFrom("%FF", "%C3%28", "%ED%A0%80", "%F8%88%80%80%80", "%C0%AF", "%E2%82", "%00", "%", "%G1", "%%");
const stateVariant = fc.oneof(
  { weight: 6, arbitrary: fc.constant(STATE) },
  { weight: 1, arbitrary: fc.constant(STATE.slice(0, -1)) },
  { weight: 1, arbitrary: fc.constant(`${STATE}x`) },
  { weight: 1, arbitrary: fc.constant(STATE.toLowerCase()) },
  { weight: 1, arbitrary: fc.constant(`${STATE}\u0000`) },
  { weight: 1, arbitrary: fc.constant(` ${STATE}`) },
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: nonUtf8.map((bad) => `${STATE}${bad}`) },
  { weight: 1, arbitrary: fc.string({ minLength: 43, maxLength: 43 }) },
);
const anyValue = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_\-.~]{1,64}$/) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40, unit: "binary" }) },
  { weight: 2, arbitrary: nonUtf8 },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n) => "v".repeat(n)) },
  { weight: 1, arbitrary: fc.constant("") },
);
const param: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constant("state"), stateVariant) },
  { weight: 5, arbitrary: fc.tuple(fc.constant("code"), anyValue) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("error", "error_description"), anyValue) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("iss"), fc.oneof(fc.constant(ISSUER), anyValue)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("STATE", "Code", "state[]", "st%61te", "", "response"), anyValue) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 12 }), anyValue) },
);
/**
 * Mostly a callback's own query (one code, one state, in either order), then changed here and there: the state
 * missing, repeated or replaced by a near miss, the code missing or repeated, parameters added (error, iss, junk).
 * So a case is often one mistake away from a valid callback, which is where a missing check would show.
 */
const queryArbitrary: fc.Arbitrary<[string, string][]> = fc.record({
  code: fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_\-.~]{1,64}$/) }, { weight: 1, arbitrary: anyValue }),
  codes: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(0, 2) }),
  states: fc.array(stateVariant, { minLength: 0, maxLength: 2 }).map((states) => states.length === 0 ? [] : states),
  oneState: fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, { weight: 2, arbitrary: fc.constant(false) }),
  extra: fc.oneof({ weight: 3, arbitrary: fc.constant([] as [string, string][]) }, { weight: 2, arbitrary: fc.array(param, { maxLength: 4 }) }),
  stateFirst: fc.boolean(),
}).map(({ code, codes, states, oneState, extra, stateFirst }) => {
  const stateParams: [string, string][] = (oneState ? states.slice(0, 1) : states).map((value) => ["state", value]);
  const codeParams: [string, string][] = Array.from({ length: codes }, () => ["code", code]);
  return [...(stateFirst ? [...stateParams, ...codeParams] : [...codeParams, ...stateParams]), ...extra];
});

const extraHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constantFrom("Cookie", "User-Agent", "Accept", "X-Forwarded-Host", "Forwarded", "Origin", "Referer"), anyValue),
  fc.tuple(fc.constantFrom("Content-Length", "Transfer-Encoding", "Expect", "Upgrade", "Connection"), fc.constantFrom("0", "5", "chunked", "100-continue", "websocket", "keep-alive", "-1", "99999999999")),
  fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), fc.string({ maxLength: 60, unit: "binary" })),
);

const caseArbitrary: fc.Arbitrary<Case> = fc.record({
  method: fc.oneof(
    { weight: 8, arbitrary: fc.constant("GET") },
    { weight: 3, arbitrary: fc.constantFrom("POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "get", "Get", "FOO", "G ET") },
  ),
  version: fc.oneof({ weight: 8, arbitrary: fc.constant("HTTP/1.1") }, { weight: 1, arbitrary: fc.constantFrom("HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1 x", "") }),
  pathKind: fc.oneof(
    { weight: 8, arbitrary: fc.constant("/callback") },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        "/callback/",
        "/Callback",
        "/callback/..",
        "//callback",
        "/%63allback",
        "/callback%2F",
        "/./callback",
        "/x/../callback",
        "/callback;x",
        "/favicon.ico",
        "/",
        "*",
        "absolute",
        "absolute-evil",
        "/callback\u0000",
        "/callback%00",
        "/callback#frag",
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 30, unit: "binary" }).map((s) => `/${s}`) },
  ),
  query: queryArbitrary,
  queryStyle: fc.constantFrom("encoded", "encoded", "encoded", "raw"),
  host: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom<HostKind>("right", "right-padded") },
    {
      weight: 3,
      arbitrary: fc.constantFrom<HostKind>(
        "missing",
        "no-port",
        "other-port",
        "localhost",
        "ipv6",
        "evil",
        "suffix",
        "userinfo",
        "decimal",
        "octal",
        "duplicate",
        "trailing-dot",
        "empty",
      ),
    },
  ),
  hostHeaderName: fc.constantFrom("Host", "host", "HOST"),
  extraHeaders: fc.array(extraHeader, { maxLength: 4 }),
  hugeHeader: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 200_000 }) }),
  keepAlive: fc.boolean(),
});

// ---- Turning a case into bytes, and what it should do -----------------------------------------------------------

function hostValues(kind: HostKind, port: number): string[] {
  switch (kind) {
    case "right":
      return [`127.0.0.1:${port}`];
    case "right-padded":
      return [`  127.0.0.1:${port}\t`];
    case "missing":
      return [];
    case "no-port":
      return ["127.0.0.1"];
    case "other-port":
      return [`127.0.0.1:${port === 65535 ? 1 : port + 1}`];
    case "localhost":
      return [`localhost:${port}`];
    case "ipv6":
      return [`[::1]:${port}`];
    case "evil":
      return ["evil.example"];
    case "suffix":
      return [`127.0.0.1:${port}.evil.example`];
    case "userinfo":
      return [`user@127.0.0.1:${port}`];
    case "decimal":
      return [`2130706433:${port}`];
    case "octal":
      return [`0177.0.0.1:${port}`];
    case "duplicate":
      return [`127.0.0.1:${port}`, `127.0.0.1:${port}`];
    case "trailing-dot":
      return [`127.0.0.1.:${port}`];
    case "empty":
      return [""];
  }
}

/** A JS string as UTF-8 bytes, each byte one latin1 character (how it goes on the wire). */
function utf8AsLatin1(text: string): string {
  return Buffer.from(new TextEncoder().encode(text)).toString("latin1");
}

/**
 * A query string. "encoded": unreserved characters and existing `%XX` escapes as they are (so non-UTF-8 escapes such
 * as `%FF` survive), every other byte percent-encoded. "raw": the UTF-8 bytes as they are, spaces and all.
 */
function encodeQuery(query: [string, string][], style: Case["queryStyle"]): string {
  const part = (text: string) => {
    if (style === "raw") return utf8AsLatin1(text);
    let out = "";
    for (let i = 0; i < text.length; i++) {
      const char = text[i]!;
      if (/[A-Za-z0-9\-._~]/.test(char)) out += char;
      else if (char === "%" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) out += char;
      else {
        const point = text.codePointAt(i)!;
        const whole = String.fromCodePoint(point);
        if (whole.length === 2) i++;
        for (const byte of new TextEncoder().encode(whole)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }
    }
    return out;
  };
  return query.map(([key, value]) => `${part(key)}=${part(value)}`).join("&");
}

function targetOf(c: Case, port: number): string {
  const query = c.query.length > 0 ? `?${encodeQuery(c.query, c.queryStyle)}` : "";
  if (c.pathKind === "absolute") return `http://127.0.0.1:${port}/callback${query}`;
  if (c.pathKind === "absolute-evil") return `http://evil.example/callback${query}`;
  if (c.pathKind === "*") return "*";
  return `${c.pathKind}${query}`;
}

function requestBytes(c: Case, port: number): Buffer {
  const lines = [`${c.method} ${targetOf(c, port)}${c.version ? ` ${c.version}` : ""}`];
  for (const value of hostValues(c.host, port)) lines.push(`${c.hostHeaderName}: ${value}`);
  for (const [name, value] of c.extraHeaders) lines.push(`${name}: ${utf8AsLatin1(value)}`);
  if (c.hugeHeader > 0) lines.push(`X-Filler: ${"f".repeat(c.hugeHeader)}`);
  if (!c.keepAlive) lines.push("Connection: close");
  // latin1: every character stands for one byte (queries and header values were turned into UTF-8 bytes above).
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
}

/** The query as the handler reads it (the server hands the target's query to URLSearchParams). */
function parsedQuery(c: Case, port: number): URLSearchParams | undefined {
  try {
    return new URL(targetOf(c, port), `http://127.0.0.1:${port}`).searchParams;
  } catch {
    return undefined;
  }
}

function pathIsCallback(c: Case, port: number): boolean {
  try {
    return new URL(targetOf(c, port), `http://127.0.0.1:${port}`).pathname === "/callback";
  } catch {
    return false;
  }
}

const hostIsRight = (c: Case) => c.host === "right" || c.host === "right-padded";
const methodIsGet = (c: Case) => /^get$/i.test(c.method);

function stateIsRight(params: URLSearchParams | undefined): boolean {
  const states = params?.getAll("state") ?? [];
  return states.length === 1 && states[0] === STATE;
}

/** What may reach the handler at all: the preconditions for any effect on the login. */
function couldAffectLogin(c: Case, port: number): boolean {
  return methodIsGet(c) && hostIsRight(c) && pathIsCallback(c, port) && stateIsRight(parsedQuery(c, port));
}

/** A callback that must be accepted: what a browser sends after a successful sign-in. */
function isCleanCallback(c: Case, port: number): boolean {
  const params = parsedQuery(c, port);
  if (!params || !stateIsRight(params)) return false;
  const codes = params.getAll("code");
  const code = codes[0];
  const onlyStateAndCode = [...params.keys()].every((key) => key === "state" || key === "code");
  return c.method === "GET" && c.version === "HTTP/1.1" && hostIsRight(c) &&
    c.pathKind === "/callback" && c.queryStyle === "encoded" && onlyStateAndCode && codes.length === 1 &&
    code !== undefined && /^[A-Za-z0-9_\-.~]{1,64}$/.test(code) && c.hugeHeader === 0 &&
    c.extraHeaders.length === 0;
}

function describeCase(c: Case, port: number): string {
  const text = requestBytes(c, port).toString("latin1");
  return text.length > 600 ? `${text.slice(0, 600)}… (${text.length} bytes)` : text;
}

// ---- The run ----------------------------------------------------------------------------------------------------

/**
 * Two listeners side by side: one validating as the browser login does (oauth4webapi checks the state and `iss`
 * again), one with nothing but the listener's own checks (as `startLoopbackServer` users may run it). Each case
 * goes to one of them, so neither layer's checks can hide a hole in the other's.
 */
interface Target {
  server: LoopbackServer;
  outcome: { state: "pending" | "resolved" | "rejected"; params?: URLSearchParams };
}
const targets: { validated?: Target; bare?: Target } = {};

async function freshTarget(kind: "validated" | "bare"): Promise<Target> {
  await targets[kind]?.server.close();
  const server = await startLoopbackServer({
    state: STATE,
    validate: kind === "validated" ? (params) => validateCallback(context, params, STATE) : undefined,
  });
  const target: Target = { server, outcome: { state: "pending" } };
  server.waitForCallback().then(
    (params) => void (target.outcome = { state: "resolved", params }),
    () => void (target.outcome = { state: "rejected" }),
  );
  targets[kind] = target;
  return target;
}

afterAll(async () => {
  await targets.validated?.server.close();
  await targets.bare?.server.close();
});

describe("the loopback listener under fuzzed requests on real sockets", () => {
  it(`never crashes, and resolves a login only for the right state, code, Host and method (${RUNS} cases)`, async () => {
    await freshTarget("validated");
    await freshTarget("bare");
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(caseArbitrary, fc.constantFrom<"validated" | "bare">("validated", "bare"), async (c, kind) => {
        const target = targets[kind]!;
        const port = target.server.port;
        const answer = await exchange(port, requestBytes(c, port), { timeoutMs: 2_000, headRequest: /^head$/i.test(c.method) });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const where = () => `\n--- ${kind} listener, request ---\n${describeCase(c, port)}\n--- answer ---\n${answer.raw.slice(0, 300)}`;
        // A login ends by closing the listener, then settling: a listener that stopped must have ended the login.
        await settledState(target.server.waitForCallback(), 5);
        if (target.outcome.state === "pending" && !(await isListening(port))) {
          await settledState(target.server.waitForCallback(), 3_000);
          expect(target.outcome.state, `stopped listening while the login still waits${where()}`).not.toBe("pending");
        }
        const seen = target.outcome;

        // Never a crash: an HTTP answer, or a connection the server closed; and never a 500 (something threw).
        expect(answer.status === 0 ? answer.closed : answer.status >= 200 && answer.status < 600, `no answer${where()}`).toBe(true);
        expect(answer.status, `an internal error${where()}`).not.toBe(500);

        if (!couldAffectLogin(c, port)) {
          expect(seen.state, `a request without the right state, Host, method or path changed the login${where()}`).toBe("pending");
        }
        if (seen.state === "resolved") {
          const params = seen.params!;
          expect(couldAffectLogin(c, port), `resolved without the preconditions${where()}`).toBe(true);
          expect(params.getAll("state")).toEqual([STATE]);
          expect(params.getAll("code")).toHaveLength(1);
          expect(params.getAll("error")).toEqual([]);
        }
        if (isCleanCallback(c, port)) {
          expect(seen.state, `a clean callback was not accepted${where()}`).toBe("resolved");
          expect(seen.params!.get("code")).toBe(parsedQuery(c, port)!.get("code"));
        }
        if (seen.state !== "pending") await freshTarget(kind);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // After all that, both listeners still take a real callback.
    for (const kind of ["validated", "bare"] as const) {
      const { server } = targets[kind]!;
      const answer = await exchange(server.port, `GET /callback?code=final&state=${STATE} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
      expect(answer.status).toBe(200);
      expect((await server.waitForCallback()).get("code")).toBe("final");
    }
    // Which answers the fuzzer saw, for the log: a run that only ever got 400s would prove little.
    console.log(`[fuzz] ${RUNS} cases, answers: ${[...statuses].sort().map(([s, n]) => `${s || "closed"}×${n}`).join(", ")}`);
  }, 60_000 + RUNS * 100);
});
