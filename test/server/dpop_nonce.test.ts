// Resource-server DPoP nonces (RFC 9449 §9) with tokens from a provider that demands nonces itself (features.dPoP
// with nonces): the token request is retried once with the provider's nonce, and the API hands out its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as oauth from "oauth4webapi";
import type { TokenSet } from "../../mod.ts";
import { retryOnDpopNonce } from "../../src/protocol/dpop.ts";
import {
  createDpopNonceSource,
  createVerifier,
  dpopNonceOf,
  type DpopNonceSource,
  identityHandler,
  type Verifier,
} from "../../server/mod.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { runtimeKey } from "../support/runtime.ts";
import { serve, type Served } from "./support/serve.ts";
import { dpopKeyPair, dpopRequest, makeProof } from "./support/dpop.ts";
import { http, issueTokens } from "./support/tokens.ts";
import { rejection } from "../support/reject.ts";

const API = "https://api.example.test/";
const ME = "https://api.example.test/me";

let provider: TestProvider;
let keyPair: CryptoKeyPair;
let tokens: TokenSet;

beforeAll(async () => {
  provider = await startProvider({ dpop: true, dpopNonce: true, resources: { [API]: { format: "jwt" } } });
  keyPair = await dpopKeyPair();
  tokens = await issueTokens(provider.issuer, { resource: API, dpop: keyPair });
});
afterAll(async () => {
  await provider?.close();
});

const proof = (claims: Record<string, unknown> = {}) =>
  makeProof(keyPair, { htm: "GET", htu: ME, token: tokens.accessToken, ...claims });

describe("a provider that demands DPoP nonces", () => {
  it("issued a DPoP-bound token after one use_dpop_nonce retry", async () => {
    expect(tokens.tokenType).toBe("DPoP");
    const codeRequests = await provider.tokenRequests("authorization_code");
    expect(codeRequests.map((r) => r.error ?? r.status)).toEqual(["use_dpop_nonce", 200]);
  });
});

describe("createVerifier() with dpop.nonce", () => {
  let nonce: DpopNonceSource;
  let verifier: Verifier;
  beforeAll(() => {
    nonce = createDpopNonceSource();
    verifier = createVerifier({ issuer: provider.issuer, audience: API, http, dpop: { nonce } });
  });

  it("answers a proof without a nonce with use_dpop_nonce and the nonce to use", async () => {
    const error = await rejection(verifier.verifyRequest(dpopRequest(ME, tokens.accessToken, await proof())));
    expect(error.code).toBe("invalid_token");
    expect(error.status).toBe(401);
    expect(error.error).toBe("use_dpop_nonce");
    expect(dpopNonceOf(error)).toBe(await nonce.current());
    expect(dpopNonceOf(error)).toMatch(/^[\x21\x23-\x5b\x5d-\x7e]+$/); // RFC 9449 §8.1 NQCHAR
  });

  it("accepts the proof made again with that nonce", async () => {
    const error = await rejection(verifier.verifyRequest(dpopRequest(ME, tokens.accessToken, await proof())));
    const token = await verifier.verifyRequest(dpopRequest(ME, tokens.accessToken, await proof({ nonce: dpopNonceOf(error) })));
    expect(token.subject).toBe("alice");
    expect(token.confirmation).toBeDefined();
  });

  it("answers a nonce it did not hand out with use_dpop_nonce", async () => {
    const other = await createDpopNonceSource().current();
    for (const value of ["made-up", other, `${(await nonce.current()).slice(0, -2)}AA`]) {
      const error = await rejection(verifier.verifyRequest(dpopRequest(ME, tokens.accessToken, await proof({ nonce: value }))));
      expect(error.error, value).toBe("use_dpop_nonce");
    }
  });

  it("still refuses a replayed proof that carries a good nonce", async () => {
    const once = await proof({ nonce: await nonce.current() });
    await verifier.verifyRequest(dpopRequest(ME, tokens.accessToken, once));
    const error = await rejection(verifier.verifyRequest(dpopRequest(ME, tokens.accessToken, once)));
    expect(error.error).toBe("invalid_dpop_proof");
  });

  it("asks nothing of Bearer requests", async () => {
    const plain = await issueTokens(provider.issuer, { resource: API, login: "carol" });
    const token = await verifier.verifyRequest(new Request(ME, { headers: { authorization: `Bearer ${plain.accessToken}` } }));
    expect(token.subject).toBe("carol");
  });
});

describe("createDpopNonceSource()", () => {
  it("keeps one nonce per lifetime, accepts it for that lifetime and the next, then refuses it", async () => {
    let now = 1_000_000_000;
    const source = createDpopNonceSource({ lifetimeMs: 60_000, now: () => now });
    const first = await source.current();
    expect(await source.current()).toBe(first);
    expect(await source.check(first)).toBe(true);
    now += 60_000;
    const second = await source.current();
    expect(second).not.toBe(first);
    expect(await source.check(first)).toBe(true);
    expect(await source.check(second)).toBe(true);
    now += 60_000;
    expect(await source.check(first)).toBe(false);
    expect(await source.check(second)).toBe(true);
  });

  it("accepts the nonces of another source with the same secret, and only those", async () => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const a = createDpopNonceSource({ secret });
    const b = createDpopNonceSource({ secret });
    const c = createDpopNonceSource({ secret: crypto.getRandomValues(new Uint8Array(32)) });
    const nonce = await a.current();
    expect(await b.check(nonce)).toBe(true);
    expect(await c.check(nonce)).toBe(false);
  });

  it("refuses malformed nonces without throwing", async () => {
    const source = createDpopNonceSource();
    for (const value of ["", ".", "x.y", "zzzzzzzzzzzz.AAAA", `a.${"A".repeat(43)}`, 42 as unknown as string]) {
      expect(await source.check(value)).toBe(false);
    }
  });

  it("refuses a short secret or lifetime", () => {
    for (const options of [{ secret: new Uint8Array(16) }, { lifetimeMs: 10 }, { lifetimeMs: Number.NaN }]) {
      expect(() => createDpopNonceSource(options)).toThrow(expect.objectContaining({ code: "invalid_options" }));
    }
  });
});

describe(`identityHandler() demanding DPoP nonces on a real ${runtimeKey()} server on loopback`, () => {
  let served: Served;
  const seen: { status: number; nonce: string | null; challenge: string | null }[] = [];
  beforeAll(async () => {
    const verifier = createVerifier({ issuer: provider.issuer, audience: API, http, dpop: { nonce: createDpopNonceSource() } });
    const handler = identityHandler(verifier);
    served = await serve(async (request) => {
      const response = await handler(request);
      seen.push({
        status: response.status,
        nonce: response.headers.get("dpop-nonce"),
        challenge: response.headers.get("www-authenticate"),
      });
      return response;
    });
  });
  afterAll(async () => {
    await served?.close();
  });

  it("answers use_dpop_nonce with DPoP-Nonce, and oauth4webapi's handle succeeds on the one retry", async () => {
    const dpop = oauth.DPoP({}, keyPair);
    const call = () =>
      oauth.protectedResourceRequest(tokens.accessToken, "GET", new URL(`${served.url}/me`), new Headers(), null, {
        DPoP: dpop,
        [oauth.allowInsecureRequests]: true,
      });
    // The first attempt alone: the challenge is what isDPoPNonceError() recognises.
    const first = await call().then(() => undefined, (error: unknown) => error);
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.status).toBe(401);
    expect(seen[0]!.challenge).toMatch(/DPoP error="use_dpop_nonce"/);
    expect(seen[0]!.nonce).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);

    // The library's client-side retry: with the nonce remembered, the next call needs no retry at all.
    seen.length = 0;
    const response = await retryOnDpopNonce(dpop, call);
    expect((await response.json()).subject).toBe("alice");
    expect(seen.map((s) => s.status)).toEqual([200]);

    const fresh = oauth.DPoP({}, keyPair);
    seen.length = 0;
    const retried = await retryOnDpopNonce(fresh, () =>
      oauth.protectedResourceRequest(tokens.accessToken, "GET", new URL(`${served.url}/me`), new Headers(), null, {
        DPoP: fresh,
        [oauth.allowInsecureRequests]: true,
      }));
    expect(retried.status).toBe(200);
    expect(seen.map((s) => s.status)).toEqual([401, 200]);
  });
});
