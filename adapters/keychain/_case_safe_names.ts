/**
 * Entry names for Windows Credential Manager, which compares names without regard to case: there `Prod` and `prod`
 * would be one credential. Both Windows stores (PowerShell, and `Bun.secrets` on Windows) write each store key in a
 * form no two keys share even when case is ignored: percent-encoding of its UTF-8 (lower-case hex) for every
 * character except `a`–`z`, `0`–`9`, `-`, `.`, `_` and `~`. The result holds no upper-case letter, so ignoring case
 * changes nothing, and no `:` or `*`, so it can sit between separators and in a `CredEnumerate` filter.
 *
 * A key made only of those characters (`default`, `work`, `ci-bot`) keeps the name earlier versions gave it, so
 * such entries read on as they were. Other keys (`Work`, `me@corp`, `client:https://…`) were stored under their raw
 * text; the stores read those once more where they can tell them apart (see each store).
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * `key` in the case-safe form: `Prod` → `%50rod`, `me@corp` → `me%40corp`, `default` → `default`.
 *
 * @param key a store key
 * @returns the name to use in Credential Manager
 */
export function caseSafeName(key: string): string {
  let name = "";
  for (const char of key) {
    if (/^[a-z0-9._~-]$/.test(char)) name += char;
    else for (const byte of encoder.encode(char)) name += `%${byte.toString(16).padStart(2, "0")}`;
  }
  return name;
}

/**
 * Whether earlier versions stored `key` under a raw name that differs from {@link caseSafeName}.
 *
 * @param key a store key
 * @returns true when a raw-named entry from an earlier version may exist
 */
export function hasRawName(key: string): boolean {
  return caseSafeName(key) !== key;
}

/**
 * Whether the raw name of `key` can never equal, even ignoring case, the case-safe name of any key: it holds an
 * ASCII character that has no case and that the case-safe form never contains (`:`, `@`, a space, `/`, …). Only
 * for such keys may a store that cannot see who wrote an entry (`Bun.secrets`) read a raw-named entry as the key's
 * own.
 *
 * @param key a store key
 * @returns true when the raw name is unambiguous
 */
export function rawNameIsDistinct(key: string): boolean {
  // Keys hold no control characters, so what is left of ASCII is in " " to "~".
  return /[ -~]/.test(key.replace(/[A-Za-z0-9._~%-]/g, ""));
}
