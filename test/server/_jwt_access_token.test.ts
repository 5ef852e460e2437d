// JWT access token rules with tokens the test signs itself (a stand-in issuer on loopback serves the keys):
// algorithms, key selection, header rules, each claim on its own, sender-constrained tokens, and garbage input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliAuthError } from "../../server/mod.ts";
import { rejection } from "../support/reject.ts";
import { verifierFor } from "./support/verifier.ts";
import { type Alg, claims, encodeJson, generateTestKey, type KeyServer, signJwt, startKeyServer, type TestKey } from "./support/key_server.ts";

const API = "https://api.example.test/";
const http = { allowInsecureRequests: true, timeoutMs: 5_000 };
let server: KeyServer;
const keys: Record<string, TestKey> = {};

beforeAll(async () => {
  const algs: Alg[] = ["RS256", "PS256", "ES256", "ES384", "EdDSA"];
  for (const alg of algs) keys[alg] = await generateTestKey(alg, `key-${alg}`);
  keys.bare = await generateTestKey("ES256", "bare", { bareJwk: true });
  keys.short = await generateTestKey("RS256-1024", "short-rsa");
  server = await startKeyServer(Object.values(keys));
  // Keys that must never be picked: one for encryption, one that may not verify.
  server.extraJwks = [
    { ...(await generateTestKey("ES256", "enc")).publicJwk, use: "enc" },
    { ...(await generateTestKey("ES256", "no-verify")).publicJwk, use: undefined, key_ops: ["encrypt"] },
  ];
});
afterAll(async () => {
  await server?.close();
});

const verifier = verifierFor(() => ({ issuer: server.issuer, audience: API, http }));

const sign = (key: TestKey, overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signJwt(key, claims(server.issuer, API, overrides), header);

async function invalid(promise: Promise<unknown>, description: RegExp): Promise<CliAuthError> {
  const error = await rejection(promise);
  expect(error.code).toBe("invalid_token");
  expect(error.errorDescription).toMatch(description);
  return error;
}

describe("JWT access tokens: algorithms and keys", () => {
  for (const alg of ["RS256", "PS256", "ES256", "ES384", "EdDSA"]) {
    it(`verifies ${alg}`, async () => {
      const token = await verifier().verifyToken(await sign(keys[alg]!));
      expect(token.subject).toBe("alice");
      expect(token.claims.iss).toBe(server.issuer);
    });
  }

  it("verifies with a JWK that has no alg or use", async () => {
    expect((await verifier().verifyToken(await sign(keys.bare!))).subject).toBe("alice");
  });

  it("verifies a token without kid when exactly one key fits", async () => {
    expect((await verifier().verifyToken(await sign(keys.EdDSA!, {}, { kid: undefined }))).subject).toBe("alice");
    expect((await verifier().verifyToken(await sign(keys.EdDSA!, {}, { kid: undefined, alg: "Ed25519" }))).subject)
      .toBe("alice");
  });

  it("refuses a token without kid when several keys fit", async () => {
    await invalid(verifier().verifyToken(await sign(keys.ES256!, {}, { kid: undefined })), /several keys/);
  });

  it("refuses a kid whose key is of another type than alg says", async () => {
    await invalid(verifier().verifyToken(await sign(keys.ES256!, {}, { kid: "key-RS256" })), /does not publish/);
  });

  it("never uses an encryption key or a key whose key_ops exclude verify", async () => {
    const enc = await generateTestKey("ES256", "enc");
    await invalid(verifier().verifyToken(await sign(enc)), /does not publish/);
    const noVerify = await generateTestKey("ES256", "no-verify");
    await invalid(verifier().verifyToken(await sign(noVerify)), /does not publish/);
  });

  it("refuses an RSA key under 2048 bits", async () => {
    await invalid(verifier().verifyToken(await sign(keys.short!)), /too short/);
  });

  it("accepts only the algorithms it is told to", async () => {
    const esOnly = verifier({ algorithms: ["ES256"] });
    expect((await esOnly.verifyToken(await sign(keys.ES256!))).subject).toBe("alice");
    await invalid(esOnly.verifyToken(await sign(keys.RS256!)), /algorithm is not accepted/);
  });

  it("refuses a token whose header asks for critical extensions", async () => {
    await invalid(verifier().verifyToken(await sign(keys.ES256!, {}, { crit: ["exp"] })), /critical/);
  });
});

describe("JWT access tokens: type and claims", () => {
  it("accepts typ at+jwt in any case and application/at+jwt", async () => {
    for (const typ of ["at+jwt", "AT+JWT", "application/at+jwt"]) {
      expect((await verifier().verifyToken(await sign(keys.ES256!, {}, { typ }))).subject, typ).toBe("alice");
    }
  });

  it("accepts other types only with requireAtJwtTyp: false", async () => {
    const plain = await sign(keys.ES256!, {}, { typ: "JWT" });
    await invalid(verifier().verifyToken(plain), /at\+jwt/);
    expect((await verifier({ requireAtJwtTyp: false }).verifyToken(plain)).subject).toBe("alice");
    expect((await verifier({ requireAtJwtTyp: false }).verifyToken(await sign(keys.ES256!, {}, { typ: undefined })))
      .subject).toBe("alice");
  });

  it("refuses a validly signed token from another issuer", async () => {
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { iss: "https://evil.example" })), /another issuer/);
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { iss: `${server.issuer}/` })), /another issuer/);
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { iss: undefined })), /another issuer/);
  });

  it("checks the audience, as a string or in an array", async () => {
    expect((await verifier().verifyToken(await sign(keys.ES256!, { aud: ["https://x.example", API] }))).subject)
      .toBe("alice");
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { aud: ["https://x.example"] })), /another audience/);
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { aud: undefined })), /another audience/);
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { aud: "https://api.example.test" })), /another audience/);
  });

  it("requires exp, and numbers for exp, nbf and iat", async () => {
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { exp: undefined })), /no expiry/);
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { exp: "2099-01-01" })), /exp claim is not a number/);
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { nbf: "soon" })), /nbf claim is not a number/);
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { iat: null })), /iat claim is not a number/);
  });

  it("judges nbf with the clock tolerance", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await verifier().verifyToken(await sign(keys.ES256!, { nbf: now + 20 }))).subject).toBe("alice");
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { nbf: now + 40 })), /not valid yet/);
    await invalid(verifier({ clockToleranceSeconds: 0 }).verifyToken(await sign(keys.ES256!, { nbf: now + 5 })), /not valid yet/);
  });

  it("requires a subject", async () => {
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { sub: undefined })), /no subject/);
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { sub: "" })), /no subject/);
    await invalid(verifier().verifyToken(await sign(keys.ES256!, { sub: 42 })), /no subject/);
  });

  it("reads scopes from scope, else scp", async () => {
    expect((await verifier().verifyToken(await sign(keys.ES256!, { scope: "a b  a" }))).scopes).toEqual(["a", "b"]);
    expect((await verifier().verifyToken(await sign(keys.ES256!, { scope: undefined, scp: ["x", "y"] }))).scopes)
      .toEqual(["x", "y"]);
    expect((await verifier().verifyToken(await sign(keys.ES256!, { scope: undefined }))).scopes).toEqual([]);
  });
});

describe("JWT access tokens: sender-constrained tokens", () => {
  const request = (authorization: string) => new Request("https://api.example.test/", { headers: { authorization } });

  it("refuses a token bound to a key (cnf) presented as a bearer token", async () => {
    const bound = await sign(keys.ES256!, { cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } });
    await invalid(verifier().verifyRequest(request(`Bearer ${bound}`)), /bound to a key/);
    await invalid(verifier().verifyToken(bound), /bound to a key/);
  });

  it("refuses a token bound by a method other than DPoP (cnf without jkt), whatever the scheme", async () => {
    const mtls = await sign(keys.ES256!, { cnf: { "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" } });
    await invalid(verifier().verifyRequest(request(`Bearer ${mtls}`)), /bound to a key \(cnf\)/);
    await invalid(verifier().verifyRequest(request(`DPoP ${mtls}`)), /method this API does not check/);
  });

  it("asks for a proof with the DPoP scheme (DPoP is on by default)", async () => {
    const bound = await sign(keys.ES256!, { cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } });
    const error = await invalid(verifier().verifyRequest(request(`DPoP ${bound}`)), /no DPoP proof/);
    expect(error.error).toBe("invalid_dpop_proof");
  });

  it("with dpop: false, answers the DPoP scheme like an unsupported one (no error code)", async () => {
    const token = await sign(keys.ES256!);
    const error = await invalid(verifier({ dpop: false }).verifyRequest(request(`DPoP ${token}`)), /DPoP/);
    expect(error.error).toBeUndefined();
  });
});

describe("verifyRequest() never throws anything but CliAuthError", () => {
  it("turns every kind of garbage into invalid_token", async () => {
    const v = verifier();
    const header = (value: unknown) => encodeJson(value);
    const garbage = [
      "a.b.c",
      "..",
      "a..",
      `${header({ alg: "ES256" })}.${header([1, 2])}.AAAA`,
      `${header("string")}.${header({})}.AAAA`,
      `${header({ alg: 256 })}.${header({})}.AAAA`,
      `${header({ alg: "ES256", kid: 7 })}.${header(claims(server.issuer, API))}.AAAA`,
      `${header({ alg: "ES256", kid: "key-ES256", typ: "at+jwt" })}.${header(claims(server.issuer, API))}.A`,
      `${header({ alg: "ES256", kid: "key-ES256", typ: "at+jwt" })}.${header(claims(server.issuer, API))}.${"A".repeat(500)}`,
      `${btoa("\u00ff\u00fe")}.e30.AAAA`,
      "e30.e30.e30.e30",
      "~~~~",
      "=",
    ];
    for (const token of garbage) {
      const error = await rejection(
        v.verifyRequest(new Request("https://api.example.test/", { headers: { authorization: `Bearer ${token}` } })),
      );
      expect(error.code, token).toBe("invalid_token");
    }
  });
});
