/**
 * The few encodings the server entry needs (base64url, hex, UTF-8), in plain Web APIs so that `server/` stays free
 * of `Buffer` and of `jsr:@std/*`. Internal: not re-exported from `server/mod.ts`.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * UTF-8 bytes of a string.
 *
 * @param text the string
 * @returns its UTF-8 encoding
 */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 strictly: invalid sequences throw a `TypeError`.
 *
 * @param bytes the bytes
 * @returns the text
 */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Decodes unpadded base64url (RFC 4648 §5) strictly: padding, whitespace, `+`, `/` and impossible lengths throw a
 * `TypeError`, as JWS (RFC 7515 §2) requires.
 *
 * @param text base64url without padding
 * @returns the bytes
 */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new TypeError("Invalid base64url");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Encodes bytes as unpadded base64url (RFC 4648 §5).
 *
 * @param bytes the bytes
 * @returns base64url without padding
 */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Lower-case hexadecimal of bytes.
 *
 * @param bytes the bytes
 * @returns two hex digits per byte
 */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * SHA-256 of a string's UTF-8 bytes, as lower-case hex (64 characters).
 *
 * @param text the input
 * @returns the digest in hex
 */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text))));
}
