// Step-up (RFC 9470) on the API side: verifyToken()/verifyRequest() with { acrValues, maxAge } refuse a token whose
// authentication is too weak (acr) or too old (auth_time) with insufficient_user_authentication, and the challenges
// tell the client what to ask for. Tokens signed by a stand-in issuer on loopback; the verifier's clock is injected.
// (Against the real provider, with its acr and JWT/opaque tokens: test/server/step_up_provider.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bearerChallenge,
  createPersonalAccessToken,
  identityHandler,
  unauthorizedResponse,
  type VerifiedToken,
  wwwAuthenticate,
} from "../../server/mod.ts";
import { jwkThumbprint } from "../../server/_dpop_proof.ts";
import { rejection } from "../support/reject.ts";
import { allChallenges } from "./support/challenges.ts";
import { dpopKeyPair, dpopRequest, makeProof, publicJwk } from "./support/dpop.ts";
import { claims, generateTestKey, type KeyServer, signJwt, startKeyServer, type TestKey } from "./support/key_server.ts";
import { verifierFor } from "./support/verifier.ts";

const API = "https://api.example.test/";
const ME = "https://api.example.test/me";
const MFA = "urn:test:mfa";
const PWD = "urn:test:pwd";
const http = { allowInsecureRequests: true, timeoutMs: 5_000 };
/** The verifier's clock: a fixed instant, in seconds and ms. */
const NOW_S = 1_900_000_000;
const NOW = NOW_S * 1000;
const ALGS = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519";

let server: KeyServer;
let key: TestKey;

beforeAll(async () => {
  key = await generateTestKey("ES256", "k1");
  server = await startKeyServer([key]);
});
afterAll(async () => {
  await server?.close();
});

const verifier = verifierFor(() => ({ issuer: server.issuer, audience: API, http, now: () => NOW }));

/** A JWT access token valid at NOW, with the given authentication claims (undefined ones left out). */
const token = (authentication: { acr?: unknown; auth_time?: unknown } = {}, more: Record<string, unknown> = {}) =>
  signJwt(key, claims(server.issuer, API, { iat: NOW_S - 60, exp: NOW_S + 3600, ...authentication, ...more }));

const bearer = (accessToken: string) => new Request(ME, { headers: { authorization: `Bearer ${accessToken}` } });

/** Refused with code insufficient_user_authentication, status 401, OAuth error of the same name. */
async function stepUp(promise: Promise<VerifiedToken>, description: RegExp) {
  const error = await rejection(promise);
  expect(error.code).toBe("insufficient_user_authentication");
  expect(error.status).toBe(401);
  expect(error.error).toBe("insufficient_user_authentication");
  expect(error.errorDescription).toMatch(description);
  return error;
}

describe("verifyToken() with acrValues", () => {
  it("accepts a token whose acr is one of them", async () => {
    const verified = await verifier().verifyToken(await token({ acr: MFA }), { acrValues: ["urn:test:hwk", MFA] });
    expect(verified.claims.acr).toBe(MFA);
  });

  it("refuses a token with another acr, or none, with insufficient_user_authentication", async () => {
    await stepUp(verifier().verifyToken(await token({ acr: PWD }), { acrValues: [MFA] }), /authentication level/);
    await stepUp(verifier().verifyToken(await token(), { acrValues: [MFA] }), /authentication level/);
    await stepUp(verifier().verifyToken(await token({ acr: [MFA] }), { acrValues: [MFA] }), /authentication level/);
  });

  it("changes nothing for a call that asks for neither", async () => {
    expect((await verifier().verifyToken(await token({ acr: PWD }))).subject).toBe("alice");
    expect((await verifier().verifyToken(await token())).subject).toBe("alice");
  });
});

describe("verifyToken() with maxAge (the verifier's clock and tolerance)", () => {
  it("accepts an authentication up to maxAge + clockToleranceSeconds ago, and refuses an older one", async () => {
    const v = verifier({ clockToleranceSeconds: 30 });
    expect((await v.verifyToken(await token({ auth_time: NOW_S - 300 - 30 }), { maxAge: 300 })).subject).toBe("alice");
    await stepUp(v.verifyToken(await token({ auth_time: NOW_S - 300 - 31 }), { maxAge: 300 }), /more recent/i);
  });

  it("with maxAge 0 and no tolerance, accepts only an authentication at this very second", async () => {
    const v = verifier({ clockToleranceSeconds: 0 });
    expect((await v.verifyToken(await token({ auth_time: NOW_S }), { maxAge: 0 })).subject).toBe("alice");
    await stepUp(v.verifyToken(await token({ auth_time: NOW_S - 1 }), { maxAge: 0 }), /more recent/i);
  });

  it("refuses a token that does not say when the user authenticated", async () => {
    await stepUp(verifier().verifyToken(await token({ acr: MFA }), { maxAge: 3600 }), /auth_time/);
  });

  it("refuses an auth_time that is not a number as a malformed token (invalid_token)", async () => {
    const error = await rejection(verifier().verifyToken(await token({ auth_time: "yesterday" }), { maxAge: 3600 }));
    expect(error.code).toBe("invalid_token");
    expect(error.errorDescription).toMatch(/auth_time/);
  });

  it("checks acr and auth_time together", async () => {
    const both = { acrValues: [MFA], maxAge: 60 };
    expect((await verifier().verifyToken(await token({ acr: MFA, auth_time: NOW_S - 10 }), both)).subject).toBe("alice");
    await stepUp(verifier().verifyToken(await token({ acr: PWD, auth_time: NOW_S - 10 }), both), /authentication level/);
    await stepUp(verifier().verifyToken(await token({ acr: MFA, auth_time: NOW_S - 3600 }), both), /more recent/i);
  });
});

describe("verifyRequest() with step-up requirements", () => {
  it("answers 401 with the RFC 9470 Bearer challenge carrying acr_values and max_age", async () => {
    const error = await stepUp(
      verifier().verifyRequest(bearer(await token({ acr: PWD })), { acrValues: [MFA, "urn:test:hwk"], maxAge: 300 }),
      /authentication level/,
    );
    const response = unauthorizedResponse(error);
    expect(response.status).toBe(401);
    const challenge = response.headers.get("www-authenticate");
    expect(challenge).toBe(
      `Bearer error="insufficient_user_authentication", error_description="${error.errorDescription}", ` +
        `acr_values="${MFA} urn:test:hwk", max_age=300, DPoP algs="${ALGS}"`,
    );
    expect(await response.json()).toEqual({ error: "insufficient_user_authentication", error_description: error.errorDescription });
    expect(bearerChallenge(error, { realm: "api" })).toBe(
      `Bearer realm="api", error="insufficient_user_authentication", error_description="${error.errorDescription}", ` +
        `acr_values="${MFA} urn:test:hwk", max_age=300`,
    );
    // What a client makes of it (oauth4webapi, as the CLI's auth.fetch parses challenges).
    const [parsed] = await allChallenges(unauthorizedResponse(error));
    expect(parsed!.scheme).toBe("bearer");
    expect(parsed!.parameters).toMatchObject({
      error: "insufficient_user_authentication",
      acr_values: `${MFA} urn:test:hwk`,
      max_age: "300",
    });
  });

  it("names only what was asked for: max_age alone, or acr_values alone", async () => {
    const old = await token({ acr: MFA, auth_time: NOW_S - 7200 });
    const onlyAge = await rejection(verifier().verifyRequest(bearer(old), { maxAge: 0 }));
    expect(wwwAuthenticate(onlyAge)).toMatch(/^Bearer error="insufficient_user_authentication", error_description="[^"]+", max_age=0, DPoP/);
    const onlyAcr = await rejection(verifier().verifyRequest(bearer(await token()), { acrValues: [MFA] }));
    expect(wwwAuthenticate(onlyAcr)).toMatch(new RegExp(`error_description="[^"]+", acr_values="${MFA}", DPoP algs=`));
  });

  it("puts the step-up challenge on the DPoP scheme for a DPoP-bound token presented with its proof", async () => {
    const keyPair = await dpopKeyPair();
    const bound = await token({ acr: PWD }, { cnf: { jkt: await jwkThumbprint(await publicJwk(keyPair)) } });
    const proof = await makeProof(keyPair, { htu: ME, token: bound, iat: NOW_S });
    const error = await stepUp(verifier().verifyRequest(dpopRequest(ME, bound, proof), { acrValues: [MFA], maxAge: 5 }), /level/);
    expect(wwwAuthenticate(error)).toBe(
      `Bearer, DPoP error="insufficient_user_authentication", error_description="${error.errorDescription}", ` +
        `acr_values="${MFA}", max_age=5, algs="${ALGS}"`,
    );
    const parsed = await allChallenges(unauthorizedResponse(error));
    expect(parsed.map((c) => c.scheme)).toEqual(["bearer", "dpop"]);
    expect(parsed[1]!.parameters).toMatchObject({ error: "insufficient_user_authentication", acr_values: MFA, max_age: "5" });
  });

  it("checks the authentication before the scopes: a token short of both gets the 401 step-up, not the 403", async () => {
    const error = await stepUp(
      verifier().verifyRequest(bearer(await token({ acr: PWD })), { acrValues: [MFA], scopes: ["admin"] }),
      /level/,
    );
    expect(unauthorizedResponse(error).status).toBe(401);
    const scoped = await rejection(verifier().verifyRequest(bearer(await token({ acr: MFA })), { acrValues: [MFA], scopes: ["admin"] }));
    expect(scoped.code).toBe("insufficient_scope");
  });

  it("identityHandler() passes acrValues and maxAge on, and answers with the challenge", async () => {
    const handler = identityHandler(verifier(), { acrValues: [MFA], maxAge: 60 });
    const refused = await handler(bearer(await token({ acr: PWD, auth_time: NOW_S })));
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/error="insufficient_user_authentication".*acr_values="urn:test:mfa", max_age=60/);
    expect((await handler(bearer(await token({ acr: MFA, auth_time: NOW_S })))).status).toBe(200);
  });

  it("refuses malformed requirements with invalid_options (no challenge: a 500, the API's own mistake)", async () => {
    const jwt = await token({ acr: MFA, auth_time: NOW_S });
    const bad: Record<string, unknown>[] = [
      { acrValues: [] },
      { acrValues: [""] },
      { acrValues: ["urn:a urn:b"] },
      { acrValues: ['urn:"a"'] },
      { acrValues: ["urn:\\a"] },
      { acrValues: "urn:test:mfa" },
      { acrValues: [7] },
      { maxAge: -1 },
      { maxAge: 1.5 },
      { maxAge: Number.NaN },
      { maxAge: "60" },
    ];
    for (const options of bad) {
      const error = await rejection(verifier().verifyToken(jwt, options));
      expect(error.code, JSON.stringify(options)).toBe("invalid_options");
      expect(unauthorizedResponse(error).status).toBe(500);
    }
  });
});

describe("step-up and personal access tokens", () => {
  it("refuses a PAT with the step-up challenge unless its lookup vouches for acr and auth_time", async () => {
    const plain = await createPersonalAccessToken({ prefix: "test_pat" });
    const vouched = await createPersonalAccessToken({ prefix: "test_pat" });
    const v = verifier({
      personalAccessTokens: {
        prefix: "test_pat",
        lookup: (hash) =>
          Promise.resolve(
            hash === plain.hash
              ? { subject: "ci-bot" }
              : hash === vouched.hash
              ? { subject: "ops", claims: { acr: MFA, auth_time: NOW_S - 5 } }
              : null,
          ),
      },
    });
    const error = await stepUp(v.verifyRequest(bearer(plain.token), { acrValues: [MFA] }), /level/);
    expect(wwwAuthenticate(error)).toMatch(/acr_values="urn:test:mfa"/);
    expect((await v.verifyRequest(bearer(vouched.token), { acrValues: [MFA], maxAge: 60 })).subject).toBe("ops");
  });
});
