/**
 * Personal access tokens for CI and scripts: `<prefix>_<random><checksum>`, in the style of GitHub's tokens, so
 * that secret scanners can find them by pattern and a typo is caught before any lookup. Only the SHA-256 of a token
 * is ever stored.
 *
 * Format: `<prefix>_` + the random part (base62, `ceil(bytes × 8 / log2 62)` characters, 43 for the default 32
 * bytes) + a 6-character base62 CRC32 of `<prefix>_<random part>`. Base62 is `0-9A-Za-z`. The hash is the lower-case
 * hex SHA-256 of the whole token's UTF-8 bytes (64 characters).
 *
 * @module
 */

import { CliAuthError, sanitizedCause } from "../src/common/errors.ts";
import { invalidToken } from "./_refusals.ts";
import type { VerifiedToken } from "./verified_token.ts";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Length of the checksum: 62^6 > 2^32, so every CRC32 fits. */
const CHECKSUM_LENGTH = 6;
/** A prefix: letters and digits, in groups joined by single underscores, starting with a letter; 32 characters at most. */
const PREFIX = /^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$/;
const MAX_PREFIX_LENGTH = 32;
const MIN_BYTES = 16;
const MAX_BYTES = 64;
/** Characters shown in {@link PersonalAccessToken.displayPrefix} besides the prefix. */
const DISPLAY_CHARACTERS = 4;

/**
 * Options of {@link createPersonalAccessToken}.
 *
 * @example Usage
 * ```ts
 * import type { PersonalAccessTokenOptions } from "@x/cli-auth/server";
 * const options: PersonalAccessTokenOptions = { prefix: "mycli_pat", bytes: 32 };
 * ```
 */
export interface PersonalAccessTokenOptions {
  /**
   * What the token starts with, before `_` (e.g. `mycli_pat`): letters and digits, groups joined by single
   * underscores, starting with a letter, 32 characters at most. Make it distinctive: scanners key on it.
   */
  prefix: string;
  /** Entropy of the random part in bytes, 16 to 64 (default 32, i.e. 256 bits). */
  bytes?: number;
}

/**
 * A new personal access token.
 *
 * @example Usage
 * ```ts
 * import type { PersonalAccessToken } from "@x/cli-auth/server";
 * function store(pat: PersonalAccessToken) {
 *   return { hash: pat.hash, label: pat.displayPrefix }; // never pat.token
 * }
 * ```
 */
export interface PersonalAccessToken {
  /** The token: show it to the user once, then forget it. */
  token: string;
  /** SHA-256 of the token in lower-case hex: the only thing to store. */
  hash: string;
  /** `<prefix>_` and the first 4 random characters: safe to show in lists so users can tell tokens apart. */
  displayPrefix: string;
}

/**
 * Creates a personal access token: `<prefix>_<base62 random><base62 CRC32>`, from `crypto.getRandomValues`.
 *
 * @param options the prefix and the entropy in bytes
 * @returns the token, its SHA-256 hash (store this) and a display prefix
 * @throws {CliAuthError} `invalid_options` for a prefix or byte count outside the rules
 *
 * @example Issue a token, store only its hash
 * ```ts
 * import { createPersonalAccessToken, personalAccessTokenPattern } from "@x/cli-auth/server";
 * const { token, hash, displayPrefix } = await createPersonalAccessToken({ prefix: "mycli_pat" });
 * console.assert(personalAccessTokenPattern("mycli_pat").test(token));
 * console.assert(hash.length === 64 && !hash.includes(token));
 * console.log(`Created ${displayPrefix}…; copy it now, it will not be shown again:\n${token}`);
 * ```
 * @see https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/
 */
export async function createPersonalAccessToken(options: PersonalAccessTokenOptions): Promise<PersonalAccessToken> {
  const prefix = checkPrefix(options?.prefix);
  const bytes = options.bytes ?? 32;
  if (!Number.isInteger(bytes) || bytes < MIN_BYTES || bytes > MAX_BYTES) {
    throw new CliAuthError("invalid_options", `The \`bytes\` option must be an integer from ${MIN_BYTES} to ${MAX_BYTES}`);
  }
  const random = randomBase62(randomLength(bytes));
  const body = `${prefix}_${random}`;
  const token = body + checksum(body);
  return { token, hash: await hashPersonalAccessToken(token), displayPrefix: `${prefix}_${random.slice(0, DISPLAY_CHARACTERS)}` };
}

/**
 * The SHA-256 of a token, in lower-case hex (64 characters): what to store, and what a verifier's `lookup` receives.
 * Any string can be hashed; check the form with {@link isPersonalAccessTokenWellFormed} first.
 *
 * @param token the token
 * @returns the hex digest of the token's UTF-8 bytes
 *
 * @example Usage
 * ```ts
 * import { hashPersonalAccessToken } from "@x/cli-auth/server";
 * const hash = await hashPersonalAccessToken("mycli_pat_…");
 * console.assert(/^[0-9a-f]{64}$/.test(hash));
 * ```
 */
export async function hashPersonalAccessToken(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(token)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

const encoder = new TextEncoder();
const utf8 = (text: string): Uint8Array<ArrayBuffer> => encoder.encode(text);

/**
 * Whether a string is a well-formed token: `<prefix>_`, at least 22 base62 characters of random part (16 bytes),
 * and a checksum that matches. Offline: catches typos and truncation before any database lookup.
 *
 * @param token the candidate
 * @param options the expected prefix (any valid prefix when absent)
 * @returns `true` when form and checksum are right (it may still be unknown or revoked)
 *
 * @example Catch a typo offline
 * ```ts
 * import { createPersonalAccessToken, isPersonalAccessTokenWellFormed } from "@x/cli-auth/server";
 * const { token } = await createPersonalAccessToken({ prefix: "mycli_pat" });
 * console.assert(isPersonalAccessTokenWellFormed(token, { prefix: "mycli_pat" }));
 * const typo = token.slice(0, -1) + (token.endsWith("a") ? "b" : "a");
 * console.assert(!isPersonalAccessTokenWellFormed(typo, { prefix: "mycli_pat" }));
 * ```
 */
export function isPersonalAccessTokenWellFormed(token: string, options: { prefix?: string } = {}): boolean {
  if (typeof token !== "string") return false;
  const split = token.lastIndexOf("_");
  if (split <= 0) return false;
  const prefix = token.slice(0, split);
  const rest = token.slice(split + 1);
  if (options.prefix !== undefined ? prefix !== options.prefix : !isValidPrefix(prefix)) return false;
  if (rest.length < randomLength(MIN_BYTES) + CHECKSUM_LENGTH || rest.length > randomLength(MAX_BYTES) + CHECKSUM_LENGTH) {
    return false;
  }
  if (!/^[0-9A-Za-z]+$/.test(rest)) return false;
  const body = token.slice(0, token.length - CHECKSUM_LENGTH);
  return timingSafeEqual(checksum(body), token.slice(token.length - CHECKSUM_LENGTH));
}

/**
 * The regular expression that matches exactly the tokens {@link createPersonalAccessToken} makes with this prefix
 * and byte count, anchored: `^<prefix>_[0-9A-Za-z]{N}$` with N = random length + 6 (49 for 32 bytes). Give it to
 * your secret scanner (unanchored) and use it in tests.
 *
 * @param prefix the prefix
 * @param options the byte count the tokens were made with (default 32)
 * @returns the pattern
 * @throws {CliAuthError} `invalid_options` for an invalid prefix or byte count
 *
 * @example Usage
 * ```ts
 * import { personalAccessTokenPattern } from "@x/cli-auth/server";
 * console.assert(personalAccessTokenPattern("mycli_pat").source === "^mycli_pat_[0-9A-Za-z]{49}$");
 * ```
 */
export function personalAccessTokenPattern(prefix: string, options: { bytes?: number } = {}): RegExp {
  checkPrefix(prefix);
  const bytes = options.bytes ?? 32;
  if (!Number.isInteger(bytes) || bytes < MIN_BYTES || bytes > MAX_BYTES) {
    throw new CliAuthError("invalid_options", `The \`bytes\` option must be an integer from ${MIN_BYTES} to ${MAX_BYTES}`);
  }
  return new RegExp(`^${prefix}_[0-9A-Za-z]{${randomLength(bytes) + CHECKSUM_LENGTH}}$`);
}

/**
 * Compares two strings in time that depends only on their lengths, not on where they differ: for comparing a stored
 * hash with a computed one (the verifier does it when the lookup returns `hash`). Not exported by the entry.
 *
 * @param a one string
 * @param b the other
 * @returns whether they are equal
 *
 * @example Usage
 * ```ts ignore
 * import { hashPersonalAccessToken } from "@x/cli-auth/server";
 * import { timingSafeEqual } from "./personal_access_token.ts";
 * declare const presented: string, storedHash: string;
 * const ok = timingSafeEqual(await hashPersonalAccessToken(presented), storedHash);
 * ```
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = utf8(a);
  const y = utf8(b);
  const length = Math.max(x.length, y.length);
  let difference = x.length ^ y.length;
  for (let i = 0; i < length; i++) difference |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return difference === 0;
}

/**
 * What the verifier needs to check personal access tokens.
 *
 * @example Usage
 * ```ts
 * import type { PersonalAccessTokenVerification } from "@x/cli-auth/server";
 * declare const db: { findTokenByHash(hash: string): Promise<{ user: string; scopes: string[] } | null> };
 * const personalAccessTokens: PersonalAccessTokenVerification = {
 *   prefix: "mycli_pat",
 *   async lookup(hash) {
 *     const row = await db.findTokenByHash(hash);
 *     return row && { subject: row.user, scopes: row.scopes };
 *   },
 * };
 * ```
 */
export interface PersonalAccessTokenVerification {
  /** The prefix tokens were created with; a token is treated as a PAT when it starts with `<prefix>_`. */
  prefix: string;
  /**
   * Finds the stored token by its SHA-256 hex hash ({@link hashPersonalAccessToken}); `null`/`undefined` when there
   * is none or it was revoked.
   */
  lookup(hash: string): Promise<PersonalAccessTokenRecord | null | undefined>;
}

/**
 * What the lookup returns for a stored token.
 *
 * @example Usage
 * ```ts
 * import type { PersonalAccessTokenRecord } from "@x/cli-auth/server";
 * const record: PersonalAccessTokenRecord = { subject: "alice", scopes: ["api:read"], expiresAt: Date.parse("2027-01-01") };
 * ```
 */
export interface PersonalAccessTokenRecord {
  /** Whom the token speaks for. */
  subject: string;
  /** What it may do. */
  scopes?: string[];
  /** When it expires (epoch ms); never when absent. */
  expiresAt?: number;
  /** Extra claims to hand to the route (e.g. `{ name: "ci deploy" }`). */
  claims?: Record<string, unknown>;
  /** The stored hash; when given it is compared with the presented token's hash in constant time. */
  hash?: string;
}

/**
 * Verifies a personal access token: its form and checksum offline, then the caller's lookup by hash, then expiry.
 *
 * @param token the presented token (known to start with `<prefix>_`)
 * @param verification prefix and lookup
 * @param now the current time, epoch ms
 * @returns the verified token
 * @throws {CliAuthError} `invalid_token`; `server_error` when the lookup itself fails
 */
export async function verifyPersonalAccessToken(
  token: string,
  verification: PersonalAccessTokenVerification,
  now: number,
): Promise<VerifiedToken> {
  if (!isPersonalAccessTokenWellFormed(token, { prefix: verification.prefix })) {
    throw invalidToken("The personal access token is malformed (a character is missing, extra or mistyped)");
  }
  const hash = await hashPersonalAccessToken(token);
  let record: PersonalAccessTokenRecord | null | undefined;
  try {
    record = await verification.lookup(hash);
  } catch (error) {
    throw new CliAuthError("server_error", "The personal access token could not be looked up", {
      cause: sanitizedCause(error),
    });
  }
  if (!record || (record.hash !== undefined && !timingSafeEqual(record.hash.toLowerCase(), hash))) {
    throw invalidToken("The personal access token is unknown or revoked");
  }
  if (typeof record.subject !== "string" || record.subject === "") {
    throw new CliAuthError("server_error", "The personal access token lookup returned no subject");
  }
  if (record.expiresAt !== undefined && record.expiresAt <= now) {
    throw invalidToken("The personal access token has expired");
  }
  const result: VerifiedToken = {
    subject: record.subject,
    type: "pat",
    scopes: [...new Set(record.scopes ?? [])],
    claims: { ...record.claims, sub: record.subject },
  };
  if (record.expiresAt !== undefined) result.expiresAt = record.expiresAt;
  return result;
}

/**
 * Checks a prefix, for options validation.
 *
 * @param prefix the candidate
 * @returns the prefix
 * @throws {CliAuthError} `invalid_options`
 */
export function checkPrefix(prefix: unknown): string {
  if (!isValidPrefix(prefix)) {
    throw new CliAuthError(
      "invalid_options",
      "A personal access token prefix must be letters and digits, in groups joined by single underscores, starting with a letter, 32 characters at most",
      { hint: 'Use something distinctive such as "mycli_pat"' },
    );
  }
  return prefix;
}

function isValidPrefix(prefix: unknown): prefix is string {
  return typeof prefix === "string" && prefix.length <= MAX_PREFIX_LENGTH && PREFIX.test(prefix);
}

/** Base62 characters needed for `bytes` bytes of entropy: ceil(8 × bytes / log2 62). */
function randomLength(bytes: number): number {
  return Math.ceil((bytes * 8) / Math.log2(62));
}

/** Uniform base62 characters: bytes ≥ 248 (= 4 × 62) are rejected, so `byte % 62` has no bias. */
function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    const pool = crypto.getRandomValues(new Uint8Array((length - out.length) * 2));
    for (const byte of pool) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** CRC32 of the UTF-8 bytes, in base62, left-padded to 6 characters. */
function checksum(text: string): string {
  let value = crc32(utf8(text));
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, the zlib/PNG one). */
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
