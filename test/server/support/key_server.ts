// A stand-in issuer on loopback whose signing keys the test holds: it serves OpenID discovery and a JWK Set, counts
// requests, and can rotate keys, fail or stall on demand. Forged tokens (own keys, wrong issuer, other types) are
// signed here with Web Crypto; the real provider is used wherever real tokens are enough.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type Alg = "RS256" | "PS256" | "ES256" | "ES384" | "EdDSA" | "RS256-1024";

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  /** Web Crypto parameters for signing with this key. */
  sign: Algorithm;
  publicJwk: JsonWebKey & { kid: string; alg?: string; use?: string };
}

const b64u = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
export const encodeJson = (value: unknown) => b64u(new TextEncoder().encode(JSON.stringify(value)));

function params(alg: Alg): { generate: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm; sign: Algorithm } {
  switch (alg) {
    case "RS256":
      return {
        generate: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
        sign: { name: "RSASSA-PKCS1-v1_5" },
      };
    case "RS256-1024":
      return {
        generate: { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
        sign: { name: "RSASSA-PKCS1-v1_5" },
      };
    case "PS256":
      return {
        generate: { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
        sign: { name: "RSA-PSS", saltLength: 32 } as RsaPssParams,
      };
    case "ES256":
      return { generate: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams };
    case "ES384":
      return { generate: { name: "ECDSA", namedCurve: "P-384" }, sign: { name: "ECDSA", hash: "SHA-384" } as EcdsaParams };
    case "EdDSA":
      return { generate: { name: "Ed25519" }, sign: { name: "Ed25519" } };
  }
}

/** A fresh key pair for `alg`, its public JWK marked with `kid` (and `alg`, `use` unless told otherwise). */
export async function generateTestKey(alg: Alg, kid: string, options: { bareJwk?: boolean } = {}): Promise<TestKey> {
  const { generate, sign } = params(alg);
  const pair = (await crypto.subtle.generateKey(generate, true, ["sign", "verify"])) as CryptoKeyPair;
  const exported = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const { kty, n, e, crv, x, y } = exported;
  const jwsAlg = alg === "RS256-1024" ? "RS256" : alg;
  const publicJwk = JSON.parse(JSON.stringify({ kty, n, e, crv, x, y, kid })) as TestKey["publicJwk"];
  if (!options.bareJwk) {
    publicJwk.alg = jwsAlg;
    publicJwk.use = "sig";
  }
  return { kid, alg: jwsAlg, privateKey: pair.privateKey, sign, publicJwk };
}

/** Signs a compact JWS with a test key; the header gets `alg` and `kid` unless `header` overrides them. */
export async function signJwt(
  key: TestKey,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const signingInput = `${encodeJson({ alg: key.alg, kid: key.kid, typ: "at+jwt", ...header })}.${encodeJson(payload)}`;
  const signature = await crypto.subtle.sign(key.sign, key.privateKey, new TextEncoder().encode(signingInput));
  return `${signingInput}.${b64u(new Uint8Array(signature))}`;
}

/** Access token claims for `issuer` / `audience`, valid for an hour from now, with overrides. */
export function claims(issuer: string, audience: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    aud: audience,
    sub: "alice",
    client_id: "cli",
    scope: "api:read",
    iat: now,
    exp: now + 3600,
    jti: crypto.randomUUID(),
    ...overrides,
  };
}

export interface KeyServer {
  issuer: string;
  jwksUri: string;
  /** Keys served in the JWK Set (mutable: rotate by replacing). */
  keys: TestKey[];
  /** Extra raw JWKs served besides `keys` (e.g. malformed ones). */
  extraJwks: Record<string, unknown>[];
  /** How many times the JWK Set was requested. */
  jwksRequests(): number;
  /** How many times discovery was requested. */
  discoveryRequests(): number;
  /** Answer the next JWK Set requests with this status (0 = normal). */
  failWith: number;
  /** Answer the JWK Set with this raw body instead. */
  rawBody: string | undefined;
  /** Hold each JWK Set answer this long (ms). */
  delayMs: number;
  /** Per-request holds (ms), used up first to last before `delayMs` applies. */
  delays: number[];
  /** Never answer the JWK Set (for timeouts). */
  stall: boolean;
  /** Send the JWK Set chunked, without Content-Length. */
  chunked: boolean;
  close(): Promise<void>;
}

/** Starts a stand-in issuer on 127.0.0.1 serving discovery and the JWK Set of `keys`. */
export async function startKeyServer(keys: TestKey[]): Promise<KeyServer> {
  let jwks = 0;
  let discovery = 0;
  const sockets = new Set<Socket>();
  const state = {
    keys,
    extraJwks: [] as Record<string, unknown>[],
    failWith: 0,
    rawBody: undefined as string | undefined,
    delayMs: 0,
    delays: [] as number[],
    stall: false,
    chunked: false,
  };
  let issuer = "";
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === "/.well-known/openid-configuration") {
      discovery++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, response_types_supported: ["code"] }));
      return;
    }
    if (req.url === "/jwks") {
      jwks++;
      if (state.stall) return;
      // What is served is decided when the request arrives, so a slow answer can carry an older key set.
      const status = state.failWith || 200;
      const body = state.failWith
        ? "{}"
        : state.rawBody ?? JSON.stringify({ keys: [...state.keys.map((k) => k.publicJwk), ...state.extraJwks] });
      const answer = () => {
        res.statusCode = status;
        res.setHeader("content-type", "application/jwk-set+json");
        if (state.chunked) {
          res.write(body);
          res.end();
        } else {
          res.end(body);
        }
      };
      const delay = state.delays.shift() ?? state.delayMs;
      if (delay) setTimeout(answer, delay);
      else answer();
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    issuer,
    jwksUri: `${issuer}/jwks`,
    jwksRequests: () => jwks,
    discoveryRequests: () => discovery,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}
