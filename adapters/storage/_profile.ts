/**
 * Checks shared by every credential store: profile names and service names, and the wording of storage errors.
 * Private to `adapters/` (the `_` prefix): not exported from `adapters/mod.ts`.
 *
 * @module
 */
import { CliAuthError, type CliAuthErrorCode, type CliAuthErrorOptions } from "../../src/errors.ts";

/**
 * What a store was doing when it failed, for messages such as `Cannot read credentials for profile "work": …`;
 * `"probe"` is the check of whether a keychain can be used at all.
 */
export type StoreAction = "read" | "store" | "delete" | "probe";

/** The longest profile (account) name a store accepts. */
export const MAX_PROFILE_LENGTH = 256;

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Throws `invalid_options` unless `profile` is a usable profile name: 1 to 256 characters, no control characters
 * (they would split the command lines of `security -i` and corrupt attribute lists).
 */
export function checkProfile(profile: unknown): asserts profile is string {
  if (typeof profile !== "string" || profile.length === 0) {
    throw new CliAuthError("invalid_options", "Invalid profile name: it must be a non-empty string");
  }
  if (profile.length > MAX_PROFILE_LENGTH) {
    throw new CliAuthError(
      "invalid_options",
      `Invalid profile name: it is ${profile.length} characters long, the limit is ${MAX_PROFILE_LENGTH}`,
    );
  }
  if (hasControlCharacter(profile)) {
    throw new CliAuthError("invalid_options", `Invalid profile name ${JSON.stringify(profile)}: it contains a control character`);
  }
}

/**
 * Throws `invalid_options` unless `service` can name a keychain entry and a single folder: non-empty, at most 128
 * characters, no control characters, no `/` or `\`, and not `.` or `..`.
 */
export function checkService(service: unknown): asserts service is string {
  if (typeof service !== "string" || service.length === 0) {
    throw new CliAuthError("invalid_options", "Invalid `service`: it must be a non-empty string such as \"my-cli\"");
  }
  if (
    service.length > 128 || hasControlCharacter(service) || /[/\\]/.test(service) || service === "." || service === ".."
  ) {
    throw new CliAuthError(
      "invalid_options",
      `Invalid \`service\` ${JSON.stringify(service)}: use a short name without slashes, such as "my-cli"`,
    );
  }
}

/**
 * A storage error worded the std way: `Cannot read credentials for profile "work": <reason>`, or
 * `Cannot use the keychain: <reason>` for a probe.
 *
 * @param code `storage_unavailable`, `storage_corrupt`, `timeout` or `invalid_options`
 * @param action what was being done
 * @param profile the profile (not secret: it is a name)
 * @param reason why, without secrets and without subprocess output
 */
export function storeError(
  code: CliAuthErrorCode,
  action: StoreAction,
  profile: string,
  reason: string,
  options: CliAuthErrorOptions = {},
): CliAuthError {
  const what = action === "probe"
    ? "Cannot use the keychain"
    : `Cannot ${action} credentials for profile ${JSON.stringify(profile)}`;
  return new CliAuthError(code, `${what}: ${reason}`, options);
}
