// What must hold with jose doing the JWS work: `alg: none`, the HMAC algorithms (the algorithm-confusion attack
// with the issuer's public key as the HMAC secret) and a key of another type than the header's algorithm are
// refused, for access tokens and for DPoP proofs, and never reach the key set. Tokens from a stand-in issuer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifier } from "../../server/mod.ts";
import { jwkThumbprint } from "../../server/_dpop_proof.ts";
import { claims, encodeJson, generateTestKey, type KeyServer, signJwt, startKeyServer, type TestKey } from "./support/key_server.ts";
import { dpopKeyPair, dpopRequest, makeProof, publicJwk } from "./support/dpop.ts";
import { rejection } from "../support/reject.ts";
import { verifierFor } from "./support/verifier.ts";

const API = "https://api.example.test/";
const ME = "https://api.example.test/me";
const http = { allowInsecureRequests: true, timeoutMs: 5_000 };
let server: KeyServer;
const keys: Record<string, TestKey> = {};

beforeAll(async () => {
  keys.ec = await generateTestKey("ES256", "ec");
  keys.rsa = await generateTestKey("RS256", "rsa");
  keys.ed = await generateTestKey("EdDSA", "ed");
  server = await startKeyServer(Object.values(keys));
});
afterAll(async () => {
  await server?.close();
});

const verifier = verifierFor(() => ({ issuer: server.issuer, audience: API, http }));
const b64u = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** A JWT MACed with `secret` under an HMAC algorithm. */
async function hmacJwt(alg: "HS256" | "HS384" | "HS512", header: Record<string, unknown>, payload: unknown, secret: Uint8Array): Promise<string> {
  const input = `${encodeJson({ ...header, alg })}.${encodeJson(payload)}`;
  const key = await crypto.subtle.importKey("raw", new Uint8Array(secret), { name: "HMAC", hash: `SHA-${alg.slice(2)}` }, false, ["sign"]);
  return `${input}.${b64u(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input))))}`;
}

describe("access tokens", () => {
  it('refuses alg "none" in any spelling, without fetching the key set', async () => {
    const v = verifier();
    const payload = encodeJson(claims(server.issuer, API));
    for (const alg of ["none", "None", "NONE"]) {
      const error = await rejection(v.verifyToken(`${encodeJson({ alg, kid: "ec", typ: "at+jwt" })}.${payload}.`));
      expect(error.errorDescription, alg).toMatch(/algorithm is not accepted/);
    }
    expect(server.jwksRequests()).toBe(0);
  });

  it("refuses HS256/384/512 tokens keyed with the issuer's public key, without fetching the key set", async () => {
    const v = verifier();
    const before = server.jwksRequests();
    for (const alg of ["HS256", "HS384", "HS512"] as const) {
      for (const key of Object.values(keys)) {
        // The forms an attacker would try as the HMAC secret: the JWK's JSON, and its base64url members raw.
        const secrets = [new TextEncoder().encode(JSON.stringify(key.publicJwk)), new TextEncoder().encode(String(key.publicJwk.x ?? key.publicJwk.n))];
        for (const secret of secrets) {
          const forged = await hmacJwt(alg, { kid: key.kid, typ: "at+jwt" }, claims(server.issuer, API), secret);
          const error = await rejection(v.verifyToken(forged));
          expect(error.code).toBe("invalid_token");
          expect(error.errorDescription, `${alg} ${key.kid}`).toMatch(/algorithm is not accepted/);
        }
      }
    }
    expect(server.jwksRequests()).toBe(before);
  });

  it("refuses a header whose alg does not fit the key its kid names (kty or curve)", async () => {
    const v = verifier();
    const cases: [TestKey, string][] = [
      [keys.ec!, "RS256"],
      [keys.ec!, "PS256"],
      [keys.ec!, "ES384"],
      [keys.ec!, "EdDSA"],
      [keys.rsa!, "ES256"],
      [keys.rsa!, "EdDSA"],
      [keys.ed!, "ES256"],
      [keys.ed!, "RS256"],
    ];
    for (const [key, alg] of cases) {
      // Signed by the key the kid names, only the header's alg lies.
      const token = await signJwt(key, claims(server.issuer, API), { alg });
      const error = await rejection(v.verifyToken(token));
      expect(error.code, `${key.kid} as ${alg}`).toBe("invalid_token");
      expect(error.errorDescription, `${key.kid} as ${alg}`).toMatch(/does not publish/);
    }
  });

  it("refuses none and HMAC algorithms as options", () => {
    for (const algorithms of [["none"], ["HS256"], ["ES256", "HS512"]]) {
      expect(() => createVerifier({ issuer: server.issuer, audience: API, algorithms: algorithms as never })).toThrow(
        expect.objectContaining({ code: "invalid_options" }),
      );
      expect(() => createVerifier({ issuer: server.issuer, audience: API, dpop: { algorithms: algorithms as never } })).toThrow(
        expect.objectContaining({ code: "invalid_options" }),
      );
    }
  });
});

describe("DPoP proofs", () => {
  let keyPair: CryptoKeyPair;
  let token: string;
  beforeAll(async () => {
    keyPair = await dpopKeyPair();
    token = await signJwt(keys.ec!, claims(server.issuer, API, { cnf: { jkt: await jwkThumbprint(await publicJwk(keyPair)) } }));
  });

  const refused = async (proof: string, description: RegExp, name: string) => {
    const error = await rejection(verifier().verifyRequest(dpopRequest(ME, token, proof)));
    expect(error.code, name).toBe("invalid_token");
    expect(error.error, name).toBe("invalid_dpop_proof");
    expect(error.errorDescription, name).toMatch(description);
  };

  it('refuses alg "none" and HMAC proofs', async () => {
    const valid = await makeProof(keyPair, { htu: ME, token });
    const [h, p] = valid.split(".") as [string, string];
    const header = JSON.parse(atob(h.replace(/-/g, "+").replace(/_/g, "/")));
    for (const alg of ["none", "None"]) {
      await refused(`${encodeJson({ ...header, alg })}.${p}.`, /signing algorithm is not accepted/, alg);
    }
    const payload = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/")));
    for (const alg of ["HS256", "HS384", "HS512"] as const) {
      // With the proof's public key as the secret, and with a symmetric jwk in the header.
      const withPublic = await hmacJwt(alg, header, payload, new TextEncoder().encode(JSON.stringify(header.jwk)));
      await refused(withPublic, /signing algorithm is not accepted/, `${alg} public`);
      const secret = crypto.getRandomValues(new Uint8Array(32));
      const withOct = await hmacJwt(alg, { ...header, jwk: { kty: "oct", k: b64u(secret) } }, payload, secret);
      await refused(withOct, /signing algorithm is not accepted/, `${alg} oct`);
    }
  });

  it("refuses a proof whose jwk is of another type or curve than its alg", async () => {
    const jwk = await publicJwk(keyPair);
    const rsa = keys.rsa!.publicJwk;
    const ed = keys.ed!.publicJwk;
    const cases: [string, Record<string, unknown>][] = [
      ["RS256", { jwk }],
      ["PS256", { jwk }],
      ["EdDSA", { jwk }],
      ["ES384", { jwk }],
      ["ES256", { jwk: { kty: rsa.kty, n: rsa.n, e: rsa.e } }],
      ["ES256", { jwk: { kty: ed.kty, crv: ed.crv, x: ed.x } }],
      ["ES256", { jwk: { ...jwk, crv: "P-384" } }],
    ];
    for (const [alg, header] of cases) {
      const proof = await makeProof(keyPair, { htu: ME, token }, { alg, ...header });
      await refused(proof, /does not fit/, `${alg} ${JSON.stringify(header).slice(0, 40)}`);
    }
  });
});
