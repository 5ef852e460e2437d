/**
 * The names things are stored under, and the one set of rules for them: the `service` (your CLI's name: keychain
 * service, config folder), profile names, and the keys a {@link CredentialStore} is given. The `CliAuth` constructor
 * and every store check names here, so a name one of them accepts, all of them accept. Internal: only
 * {@link registeredClientKey} and {@link pendingLoginKey} are public (from `@x/cli-auth/protocol`).
 *
 * - A store key is a profile name, the key of a registered client, `client:<issuer>`, or the key of a profile's
 *   pending login, `pending-login:<profile>`. Profiles may not begin with `client:` or `pending-login:` (in any case),
 *   so these never meet: no profile can read, overwrite or erase a client registration or a pending login, and
 *   neither ever touches a profile.
 * - Case matters everywhere: `Prod` and `prod` are two profiles on every store (the Windows stores encode names so
 *   that Credential Manager, which ignores case, keeps them apart).
 * - No name holds a control character (C0, DEL, C1: they would split `security -i` lines, and could drive the
 *   terminal when a name is printed) or a lone UTF-16 surrogate (it has no UTF-8 of its own and would collide with
 *   U+FFFD), and no name is blank.
 * - No key ends like the part of a split value (`:part:<16 hex digits>:<n>`, see `adapters/keychain/_chunks.ts`).
 * - A service has no `/`, `\` (it names a folder), `:` or `*` (Windows Credential Manager names and filters), and is
 *   not `.` or `..`.
 *
 * @module
 */
import { CliAuthError } from "./common/errors.ts";

/**
 * The longest `service` name, in UTF-16 code units.
 *
 * @example Usage
 * ```ts
 * import { MAX_SERVICE_LENGTH } from "./names.ts";
 * console.assert(MAX_SERVICE_LENGTH === 128);
 * ```
 */
export const MAX_SERVICE_LENGTH = 128;

/**
 * The longest profile name or store key, in UTF-16 code units.
 *
 * @example Usage
 * ```ts
 * import { MAX_PROFILE_LENGTH } from "./names.ts";
 * console.assert(MAX_PROFILE_LENGTH === 256);
 * ```
 */
export const MAX_PROFILE_LENGTH = 256;

/**
 * What every registered client's store key begins with; no profile name may (in any case).
 *
 * @example Usage
 * ```ts
 * import { REGISTERED_CLIENT_PREFIX } from "./names.ts";
 * console.assert(REGISTERED_CLIENT_PREFIX === "client:");
 * ```
 */
export const REGISTERED_CLIENT_PREFIX = "client:";

/**
 * What every pending login's store key begins with (`pending-login:<profile>`); no profile name may (in any case).
 *
 * @example Usage
 * ```ts
 * import { PENDING_LOGIN_PREFIX } from "./names.ts";
 * console.assert(PENDING_LOGIN_PREFIX === "pending-login:");
 * ```
 */
export const PENDING_LOGIN_PREFIX = "pending-login:";

/** The end of a part's name in a split value (see `adapters/keychain/_chunks.ts`). */
const PART_SUFFIX = /:part:[0-9a-f]{16}:\d+$/;

/** C0, DEL, C1 controls and lone surrogates: what a name may not hold. */
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A name in double quotes for messages, with every control character and lone surrogate written as a `\u` escape
 * (a refused name must not reach a terminal raw).
 *
 * @param name the name
 * @returns the quoted name
 *
 * @example Usage
 * ```ts
 * import { quoteName } from "./names.ts";
 * console.assert(quoteName("a\u009bb") === '"a\\u009bb"');
 * ```
 */
export function quoteName(name: string): string {
  return JSON.stringify(name).replace(
    /[\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function invalid(what: string, name: string, why: string, hint?: string): CliAuthError {
  return new CliAuthError("invalid_options", `Invalid ${what} ${quoteName(name)}: ${why}`, hint ? { hint } : {});
}

/** The checks every name gets; `what` names it in messages. */
function checkName(what: string, name: unknown, max: number): asserts name is string {
  if (typeof name !== "string" || name.trim() === "") {
    throw new CliAuthError("invalid_options", `Invalid ${what}: it must be a non-empty string`);
  }
  if (name.length > max) {
    throw new CliAuthError("invalid_options", `Invalid ${what}: it is ${name.length} characters long, the limit is ${max}`);
  }
  if (UNPRINTABLE.test(name)) throw invalid(what, name, "it contains a control character or a lone surrogate");
}

/**
 * Throws `invalid_options` unless `service` can name a keychain entry and a single folder: non-blank, at most
 * {@link MAX_SERVICE_LENGTH} characters, no control characters, none of `/ \ : *`, and not `.` or `..`.
 *
 * @param service the `service` option
 * @throws {CliAuthError} `invalid_options`
 *
 * @example Usage
 * ```ts
 * import { checkService } from "./names.ts";
 * checkService("my-cli"); // fine
 * try {
 *   checkService("my:cli");
 * } catch (error) {
 *   console.error((error as Error).message);
 * }
 * ```
 */
export function checkService(service: unknown): asserts service is string {
  const hint = 'Name your CLI, e.g. `service: "my-cli"`: it names the keychain entries and the config folder';
  if (typeof service !== "string" || service.trim() === "") {
    throw new CliAuthError("invalid_options", "Invalid `service`: it must be a non-empty string such as \"my-cli\"", {
      hint,
    });
  }
  checkName("`service`", service, MAX_SERVICE_LENGTH);
  if (/[/\\:*]/.test(service) || service === "." || service === "..") {
    throw invalid("`service`", service, "use a short name without `/`, `\\`, `:` or `*`, such as \"my-cli\"", hint);
  }
}

/**
 * Throws `invalid_options` unless `key` is a key a `CredentialStore` may be given: a profile name (see
 * {@link checkProfile}), a registered client's key ({@link registeredClientKey}, beginning with exactly `client:`) or
 * a pending login's key ({@link pendingLoginKey}: exactly `pending-login:` and a profile name).
 *
 * @param key the key
 * @throws {CliAuthError} `invalid_options`
 *
 * @example Usage
 * ```ts
 * import { checkStorageKey, pendingLoginKey, registeredClientKey } from "./names.ts";
 * checkStorageKey("work");
 * checkStorageKey(registeredClientKey("https://auth.example.com"));
 * checkStorageKey(pendingLoginKey("work"));
 * ```
 */
export function checkStorageKey(key: unknown): asserts key is string {
  if (typeof key === "string" && isPendingLoginKey(key)) {
    if (!key.startsWith(PENDING_LOGIN_PREFIX)) {
      throw invalid("profile name", key, `\`${PENDING_LOGIN_PREFIX}\` begins the keys of pending logins`);
    }
    // The profile's rules, on the profile part (so a pending login's key is never longer than its profile allows).
    checkProfile(key.slice(PENDING_LOGIN_PREFIX.length));
    return;
  }
  checkName("profile name", key, MAX_PROFILE_LENGTH);
  if (PART_SUFFIX.test(key)) throw invalid("profile name", key, "it ends like the name of a part of another profile");
  if (isRegisteredClientKey(key) && !key.startsWith(REGISTERED_CLIENT_PREFIX)) {
    // Neither a profile (those never begin so) nor a client's key (those begin with exactly "client:").
    throw invalid("profile name", key, `\`${REGISTERED_CLIENT_PREFIX}\` begins the keys of registered clients`);
  }
}

/**
 * Throws `invalid_options` unless `profile` is a usable profile name: 1 to {@link MAX_PROFILE_LENGTH} characters,
 * not blank, no control characters or lone surrogates, not beginning with `client:` or `pending-login:` (in any case:
 * registered clients and pending logins live there) and not ending like a part of a split value
 * (`:part:<16 hex digits>:<n>`).
 *
 * @param profile the profile name
 * @throws {CliAuthError} `invalid_options`
 *
 * @example Usage
 * ```ts
 * import { checkProfile } from "./names.ts";
 * checkProfile("work");
 * checkProfile("Work"); // another profile
 * ```
 */
export function checkProfile(profile: unknown): asserts profile is string {
  if (typeof profile === "string" && isPendingLoginKey(profile)) {
    throw invalid("profile name", profile, `\`${PENDING_LOGIN_PREFIX}\` begins the keys of pending logins`);
  }
  checkStorageKey(profile);
  if (isRegisteredClientKey(profile)) {
    throw invalid("profile name", profile, `\`${REGISTERED_CLIENT_PREFIX}\` begins the keys of registered clients`);
  }
}

/**
 * The store key of the client registered at `issuer`: `client:<issuer>`.
 *
 * @param issuer the authorization server
 * @returns the key
 *
 * @example Usage
 * ```ts
 * import { registeredClientKey } from "@x/cli-auth/protocol";
 * registeredClientKey("https://auth.example.com"); // "client:https://auth.example.com"
 * ```
 */
export function registeredClientKey(issuer: string): string {
  return `${REGISTERED_CLIENT_PREFIX}${issuer}`;
}

/**
 * Whether `key` is in the registered clients' namespace (begins with `client:`, in any case).
 *
 * @param key a store key
 * @returns true for a registered client's key
 *
 * @example Usage
 * ```ts
 * import { isRegisteredClientKey } from "./names.ts";
 * console.assert(isRegisteredClientKey("client:https://auth.example.com") && !isRegisteredClientKey("work"));
 * ```
 */
export function isRegisteredClientKey(key: string): boolean {
  return key.slice(0, REGISTERED_CLIENT_PREFIX.length).toLowerCase() === REGISTERED_CLIENT_PREFIX;
}

/**
 * The store key of a profile's pending login (see `CliAuth.beginLogin`): `pending-login:<profile>`.
 *
 * @param profile the profile
 * @returns the key
 *
 * @example Usage
 * ```ts
 * import { pendingLoginKey } from "@x/cli-auth/protocol";
 * pendingLoginKey("default"); // "pending-login:default"
 * ```
 */
export function pendingLoginKey(profile: string): string {
  return `${PENDING_LOGIN_PREFIX}${profile}`;
}

/**
 * Whether `key` is in the pending logins' namespace (begins with `pending-login:`, in any case).
 *
 * @param key a store key
 * @returns true for a pending login's key
 *
 * @example Usage
 * ```ts
 * import { isPendingLoginKey } from "./names.ts";
 * console.assert(isPendingLoginKey("pending-login:default") && !isPendingLoginKey("default"));
 * ```
 */
export function isPendingLoginKey(key: string): boolean {
  return key.slice(0, PENDING_LOGIN_PREFIX.length).toLowerCase() === PENDING_LOGIN_PREFIX;
}
