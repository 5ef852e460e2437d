/**
 * Values larger than one keychain entry can hold, split over several entries.
 *
 * Each OS tool has a ceiling: `security -i` reads command lines of at most 4,095 bytes (a hex-encoded value must fit
 * in one), `secret-tool` 0.20 silently truncates a secret read from stdin at 8,192 bytes, and a Windows generic
 * credential blob holds at most 2,560 bytes. A session with an ID token, a refresh token and a DPoP key passes those.
 *
 * The scheme, shared by every keychain store so that any of them reads what another wrote:
 * - A value that fits is stored as it is, in the entry named by the profile: `secret-tool lookup service my-cli
 *   account default` shows the session JSON.
 * - A larger value is cut at character boundaries into parts of at most `maxBytes` UTF-8 bytes. Part `i` (from 1) is
 *   the entry `<profile>:part:<id>:<i>`, where `<id>` is 16 random hex digits drawn per write. The profile's own entry
 *   then holds a manifest, `cli-auth:chunked:v1:<id>:<count>:<sha-256 of the value, base64url>`.
 * - Parts are written first and the manifest last, under a fresh id, so a reader never sees a manifest whose parts
 *   are not all there; the previous write's parts are removed afterwards. A reader checks the hash, and a part that is
 *   missing or changed gives `storage_corrupt` (after re-reading the manifest, in case a writer raced it).
 * - The empty string, and any value that itself starts with the manifest prefix, are always stored as a manifest, so
 *   reading is unambiguous (and Bun.secrets, which treats `""` as "delete", can store `""`).
 *
 * @module
 */
import type { CredentialStore } from "../../src/contracts.ts";
import { isCliAuthError } from "../../src/common/errors.ts";
import { checkStorageKey } from "../../src/names.ts";
import { type StoreAction, storeError } from "../storage/_store_error.ts";

/** What the profile's entry holds when the value is split into parts. */
export const MANIFEST_PREFIX = "cli-auth:chunked:v1:";

/** A parsed manifest. */
export interface Manifest {
  id: string;
  count: number;
  sha256: string;
}

const encoder = new TextEncoder();

/** UTF-8 length of `value`, in bytes. */
export function utf8Length(value: string): number {
  return encoder.encode(value).length;
}

/** Whether `value` must be split (or wrapped in a manifest) to be stored in entries of at most `maxBytes` bytes. */
export function needsParts(value: string, maxBytes: number): boolean {
  return value === "" || value.startsWith(MANIFEST_PREFIX) || utf8Length(value) > maxBytes;
}

/** Cuts `value` into pieces of at most `maxBytes` UTF-8 bytes, never inside a character. */
export function splitUtf8(value: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new RangeError(`maxBytes must be at least 4, got ${maxBytes}`);
  const parts: string[] = [];
  let current = "";
  let size = 0;
  for (const char of value) {
    const code = char.codePointAt(0)!;
    const bytes = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (size + bytes > maxBytes) {
      parts.push(current);
      current = "";
      size = 0;
    }
    current += char;
    size += bytes;
  }
  if (current !== "") parts.push(current);
  return parts;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** SHA-256 of the UTF-8 of `value`, base64url without padding. */
export async function sha256(value: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value))));
}

/** 16 random hex digits. */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The manifest text for a value split into `count` parts. */
export function formatManifest(manifest: Manifest): string {
  return `${MANIFEST_PREFIX}${manifest.id}:${manifest.count}:${manifest.sha256}`;
}

/** Whether the text of an entry is a manifest. */
export function isManifest(text: string): boolean {
  return text.startsWith(MANIFEST_PREFIX);
}

/** Parses a manifest; `undefined` when it is malformed. */
export function parseManifest(text: string): Manifest | undefined {
  const match = /^([0-9a-f]{16}):(\d{1,6}):([A-Za-z0-9_-]{43})$/.exec(text.slice(MANIFEST_PREFIX.length));
  if (!match) return undefined;
  return { id: match[1]!, count: Number(match[2]), sha256: match[3]! };
}

/** The entry name (account) of part `index` (from 1) of `profile`. */
export function partName(profile: string, id: string, index: number): string {
  return `${profile}:part:${id}:${index}`;
}

/** The entry names of every part a manifest points to. */
export function partNames(profile: string, manifest: Manifest): string[] {
  return Array.from({ length: manifest.count }, (_, i) => partName(profile, manifest.id, i + 1));
}

/** The entries to write for `value`: parts first (possibly none), the profile's own entry last. */
export async function planWrite(
  profile: string,
  value: string,
  maxBytes: number,
): Promise<{ entries: { name: string; value: string }[]; manifest?: Manifest }> {
  if (!needsParts(value, maxBytes)) return { entries: [{ name: profile, value }] };
  const pieces = splitUtf8(value, maxBytes);
  const manifest: Manifest = { id: randomId(), count: pieces.length, sha256: await sha256(value) };
  const entries = pieces.map((piece, i) => ({ name: partName(profile, manifest.id, i + 1), value: piece }));
  entries.push({ name: profile, value: formatManifest(manifest) });
  return { entries, manifest };
}

/**
 * Joins parts read for `manifest`; `undefined` when one is missing or the joined value does not match the hash.
 */
export async function joinParts(manifest: Manifest, parts: readonly (string | null | undefined)[]): Promise<string | undefined> {
  if (parts.length !== manifest.count || parts.some((part) => typeof part !== "string")) return undefined;
  const value = (parts as string[]).join("");
  return (await sha256(value)) === manifest.sha256 ? value : undefined;
}

/**
 * The primitive operations of a keychain that {@link chunkedStore} builds a {@link CredentialStore} from. Entry
 * names are profile names or part names; values are at most `maxBytes(profile)` UTF-8 bytes.
 */
export interface EntryBackend {
  /** The value of one entry, `null` when there is none; `action` is what the read is for, for error messages. */
  read(name: string, action: StoreAction): Promise<string | null>;
  /** Writes entries in the given order; rejects when any could not be written. */
  write(entries: readonly { name: string; value: string }[]): Promise<void>;
  /** Removes entries; no error for those that do not exist. */
  remove(names: readonly string[]): Promise<void>;
  /** The largest value, in UTF-8 bytes, one entry may hold for this profile (part names are longer). */
  maxBytes(profile: string): number;
}

/** How many times a reader re-reads a manifest whose parts changed under it before calling the entry corrupt. */
const READ_ATTEMPTS = 3;

/**
 * Reads a profile's value through `backend`, joining parts when its entry is a manifest.
 *
 * @throws {CliAuthError} `storage_corrupt` when parts stay missing or do not match the manifest
 */
export async function readChunked(backend: EntryBackend, profile: string): Promise<string | null> {
  let main = await backend.read(profile, "read");
  for (let attempt = 1;; attempt++) {
    if (main === null || !isManifest(main)) return main;
    const manifest = parseManifest(main);
    if (!manifest) {
      throw storeError("storage_corrupt", "read", profile, "the keychain entry is not a valid manifest of parts", {
        hint: "Log in again to replace it",
      });
    }
    const parts = await Promise.all(partNames(profile, manifest).map((name) => backend.read(name, "read")));
    const value = await joinParts(manifest, parts);
    if (value !== undefined) return value;
    const again = await backend.read(profile, "read");
    if (again === main || attempt >= READ_ATTEMPTS) {
      throw storeError("storage_corrupt", "read", profile, "a part of the keychain entry is missing or was changed", {
        hint: "Log in again to replace it",
      });
    }
    main = again;
  }
}

/** The part names the profile's current entry points to (none when it holds a plain value or is unreadable). */
async function currentParts(backend: EntryBackend, profile: string, action: StoreAction): Promise<string[]> {
  const main = await backend.read(profile, action);
  if (main === null || !isManifest(main)) return [];
  const manifest = parseManifest(main);
  return manifest ? partNames(profile, manifest) : [];
}

/**
 * Builds a {@link CredentialStore} on an {@link EntryBackend}: values of any size, parts written before the manifest,
 * parts of the previous value removed after.
 */
export function chunkedStore(backend: EntryBackend): CredentialStore {
  return {
    kind: "keychain",
    async get(profile) {
      checkStorageKey(profile);
      return await readChunked(backend, profile);
    },
    async set(profile, value) {
      checkStorageKey(profile);
      if (typeof value !== "string") throw new TypeError("A credential value must be a string");
      const previous = await currentParts(backend, profile, "store");
      const { entries } = await planWrite(profile, value, backend.maxBytes(profile));
      const parts = entries.slice(0, -1);
      if (parts.length > 0) await backend.write(parts);
      await backend.write(entries.slice(-1));
      const keep = new Set(parts.map((entry) => entry.name));
      const stale = previous.filter((name) => !keep.has(name));
      if (stale.length > 0) {
        // The new value is stored; parts left behind by a failed cleanup are unreachable, so this is best effort.
        await backend.remove(stale).catch((error) => {
          if (!isCliAuthError(error)) throw error;
        });
      }
    },
    async delete(profile) {
      checkStorageKey(profile);
      const parts = await currentParts(backend, profile, "delete");
      await backend.remove([profile, ...parts]);
    },
  };
}
