// Personal access tokens: format, checksum, hash, and their verification through createVerifier().
import { describe, expect, it } from "vitest";
import {
  createPersonalAccessToken,
  createVerifier,
  hashPersonalAccessToken,
  isPersonalAccessTokenWellFormed,
  type PersonalAccessTokenRecord,
  personalAccessTokenPattern,
} from "../../server/mod.ts";
import { timingSafeEqual } from "../../server/personal_access_token.ts";
import { rejection, throws } from "../support/reject.ts";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** SHA-256 hex computed here independently of the library. */
async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("createPersonalAccessToken()", () => {
  it("makes <prefix>_<43 base62 random><6 base62 checksum> tokens matching the documented pattern", async () => {
    const { token, displayPrefix } = await createPersonalAccessToken({ prefix: "mycli_pat" });
    expect(token).toMatch(/^mycli_pat_[0-9A-Za-z]{49}$/);
    expect(personalAccessTokenPattern("mycli_pat").source).toBe("^mycli_pat_[0-9A-Za-z]{49}$");
    expect(displayPrefix).toBe(token.slice(0, "mycli_pat_".length + 4));
  });

  it("makes 10,000 distinct tokens, each well-formed and matching the pattern", async () => {
    const pattern = personalAccessTokenPattern("ci");
    const tokens = new Set<string>();
    const hashes = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const { token, hash } = await createPersonalAccessToken({ prefix: "ci" });
      expect(pattern.test(token)).toBe(true);
      expect(isPersonalAccessTokenWellFormed(token, { prefix: "ci" })).toBe(true);
      tokens.add(token);
      hashes.add(hash);
    }
    expect(tokens.size).toBe(10_000);
    expect(hashes.size).toBe(10_000);
  });

  it("draws the random part uniformly from all 62 characters", async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 1_000; i++) {
      const { token } = await createPersonalAccessToken({ prefix: "u" });
      for (const c of token.slice(2, -6)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    // 43,000 draws, ~694 per character: a bias such as `byte % 62` without rejection (+25 % on 8 characters) shows.
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(560);
      expect(count).toBeLessThan(830);
    }
  });

  it("scales the random part with bytes", async () => {
    expect((await createPersonalAccessToken({ prefix: "p", bytes: 16 })).token).toMatch(/^p_[0-9A-Za-z]{28}$/);
    expect((await createPersonalAccessToken({ prefix: "p", bytes: 64 })).token).toMatch(/^p_[0-9A-Za-z]{92}$/);
    expect(personalAccessTokenPattern("p", { bytes: 16 }).test((await createPersonalAccessToken({ prefix: "p", bytes: 16 })).token)).toBe(true);
  });

  it("refuses bad prefixes and byte counts with invalid_options", async () => {
    for (const prefix of ["", "_pat", "pat_", "my__pat", "1pat", "my-pat", "pät", "x".repeat(33)]) {
      expect((await rejection(createPersonalAccessToken({ prefix }))).code, prefix).toBe("invalid_options");
    }
    for (const bytes of [0, 8, 15, 65, 1.5, Number.NaN]) {
      expect((await rejection(createPersonalAccessToken({ prefix: "ok", bytes }))).code, String(bytes)).toBe("invalid_options");
    }
  });
});

describe("hashPersonalAccessToken()", () => {
  it("is the SHA-256 of the token in lower-case hex, and never contains the token", async () => {
    const { token, hash } = await createPersonalAccessToken({ prefix: "mycli_pat" });
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(await sha256(token));
    expect(await hashPersonalAccessToken(token)).toBe(hash);
    expect(hash).not.toContain(token.slice("mycli_pat_".length, "mycli_pat_".length + 8));
    expect(await hashPersonalAccessToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("isPersonalAccessTokenWellFormed()", () => {
  it("catches every one-character substitution, at every position", async () => {
    const { token } = await createPersonalAccessToken({ prefix: "mycli_pat" });
    let checked = 0;
    for (let i = "mycli_pat_".length; i < token.length; i++) {
      for (const c of BASE62) {
        if (c === token[i]) continue;
        const typo = token.slice(0, i) + c + token.slice(i + 1);
        expect(isPersonalAccessTokenWellFormed(typo, { prefix: "mycli_pat" }), typo).toBe(false);
        checked++;
      }
    }
    expect(checked).toBe(49 * 61);
  });

  it("catches swapped neighbours, a dropped or an extra character", async () => {
    const { token } = await createPersonalAccessToken({ prefix: "mycli_pat" });
    const body = "mycli_pat_".length;
    for (let i = body; i < token.length - 1; i++) {
      if (token[i] === token[i + 1]) continue;
      const swapped = token.slice(0, i) + token[i + 1] + token[i] + token.slice(i + 2);
      expect(isPersonalAccessTokenWellFormed(swapped), swapped).toBe(false);
    }
    expect(isPersonalAccessTokenWellFormed(token.slice(0, -1))).toBe(false);
    expect(isPersonalAccessTokenWellFormed(token.slice(0, 20) + token.slice(21))).toBe(false);
    expect(isPersonalAccessTokenWellFormed(`${token}a`)).toBe(false);
  });

  it("checks the prefix when given one, and any valid prefix otherwise", async () => {
    const { token } = await createPersonalAccessToken({ prefix: "mycli_pat" });
    expect(isPersonalAccessTokenWellFormed(token)).toBe(true);
    expect(isPersonalAccessTokenWellFormed(token, { prefix: "mycli" })).toBe(false);
    expect(isPersonalAccessTokenWellFormed(token.replace("mycli_pat", "mycli_pet"))).toBe(false);
    for (const junk of ["", "_", "mycli_pat_", "no-underscore", "eyJhbGciOiJIUzI1NiJ9.e30.x"]) {
      expect(isPersonalAccessTokenWellFormed(junk), junk).toBe(false);
    }
  });
});

describe("timingSafeEqual()", () => {
  it("compares strings", () => {
    expect(timingSafeEqual("abc", "abc")).toBe(true);
    expect(timingSafeEqual("abc", "abd")).toBe(false);
    expect(timingSafeEqual("abc", "abcd")).toBe(false);
    expect(timingSafeEqual("", "")).toBe(true);
    expect(timingSafeEqual("é", "e")).toBe(false);
  });
});

describe("createVerifier() with personal access tokens", () => {
  async function setup(
    record: Partial<PersonalAccessTokenRecord> | ((hash: string) => Partial<PersonalAccessTokenRecord>) = {},
    options: { now?: () => number } = {},
  ) {
    const created = await createPersonalAccessToken({ prefix: "mycli_pat" });
    const lookups: string[] = [];
    const verifier = createVerifier({
      issuer: "https://auth.example.test",
      audience: "https://api.example.test/",
      ...options,
      personalAccessTokens: {
        prefix: "mycli_pat",
        lookup: (hash) => {
          lookups.push(hash);
          const extra = typeof record === "function" ? record(hash) : record;
          return Promise.resolve(hash === created.hash ? { subject: "ci-bot", scopes: ["deploy"], ...extra } : null);
        },
      },
    });
    return { ...created, verifier, lookups };
  }
  const bearer = (token: string) => new Request("https://api.example.test/", { headers: { authorization: `Bearer ${token}` } });

  it("verifies a stored token through the lookup by hash, never seeing the token", async () => {
    const { token, hash, verifier, lookups } = await setup({ claims: { name: "deploy bot" } });
    const verified = await verifier.verifyRequest(bearer(token));
    expect(verified).toEqual({ subject: "ci-bot", type: "pat", scopes: ["deploy"], claims: { name: "deploy bot", sub: "ci-bot" } });
    expect(lookups).toEqual([hash]);
  });

  it("refuses a token with a typo before any lookup", async () => {
    const { token, verifier, lookups } = await setup();
    const typo = token.slice(0, 15) + (token[15] === "x" ? "y" : "x") + token.slice(16);
    const error = await rejection(verifier.verifyRequest(bearer(typo)));
    expect(error.code).toBe("invalid_token");
    expect(error.errorDescription).toMatch(/malformed/);
    expect(lookups).toEqual([]);
  });

  it("refuses a well-formed token the lookup does not know", async () => {
    const { verifier } = await setup();
    const other = await createPersonalAccessToken({ prefix: "mycli_pat" });
    const error = await rejection(verifier.verifyToken(other.token));
    expect(error.code).toBe("invalid_token");
    expect(error.errorDescription).toMatch(/unknown or revoked/);
  });

  it("refuses an expired token", async () => {
    const now = Date.now();
    const { token, verifier } = await setup({ expiresAt: now + 1_000 }, { now: () => now + 1_000 });
    const error = await rejection(verifier.verifyToken(token));
    expect(error.code).toBe("invalid_token");
    expect(error.errorDescription).toMatch(/expired/);
  });

  it("compares a hash the lookup returns with the presented token's hash", async () => {
    const { token, verifier } = await setup({ hash: "0".repeat(64) });
    expect((await rejection(verifier.verifyToken(token))).code).toBe("invalid_token");
    const { token: good, verifier: v2 } = await setup((hash) => ({ hash: hash.toUpperCase() }));
    expect((await v2.verifyToken(good)).subject).toBe("ci-bot");
  });

  it("turns a failing lookup into server_error without the token", async () => {
    const created = await createPersonalAccessToken({ prefix: "mycli_pat" });
    const verifier = createVerifier({
      issuer: "https://auth.example.test",
      audience: "https://api.example.test/",
      personalAccessTokens: { prefix: "mycli_pat", lookup: () => Promise.reject(new Error("database is down")) },
    });
    const error = await rejection(verifier.verifyToken(created.token));
    expect(error.code).toBe("server_error");
    expect(JSON.stringify(error.toJSON()) + String(error.cause)).not.toContain(created.token);
  });

  it("is refused where a route accepts only other kinds", async () => {
    const { token, verifier } = await setup();
    const error = await rejection(verifier.verifyToken(token, { accepts: ["jwt"] }));
    expect(error.code).toBe("invalid_token");
    expect(error.errorDescription).toMatch(/personal access tokens/);
  });

  it("refuses bad verifier options with invalid_options", () => {
    const base = { issuer: "https://auth.example.test", audience: "https://api.example.test/" };
    expect(throws(() => createVerifier({ ...base, personalAccessTokens: { prefix: "bad-", lookup: () => Promise.resolve(null) } })).code)
      .toBe("invalid_options");
    expect(throws(() => createVerifier({ ...base, accepts: ["pat"] })).code).toBe("invalid_options");
    expect(throws(() => createVerifier({ ...base, issuer: "not a url" })).code).toBe("invalid_options");
    expect(throws(() => createVerifier({ ...base, audience: "" })).code).toBe("invalid_options");
    expect(throws(() => createVerifier({ ...base, clockToleranceSeconds: -1 })).code).toBe("invalid_options");
    expect(throws(() => createVerifier({ ...base, algorithms: ["HS256" as "RS256"] })).code).toBe("invalid_options");
    expect(throws(() => createVerifier({ ...base, jwks: { cooldownMs: -5 } })).code).toBe("invalid_options");
    expect(throws(() => createVerifier({ ...base, introspection: { clientId: "", clientSecret: "" } })).code).toBe("invalid_options");
  });
});
