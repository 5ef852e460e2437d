/**
 * The wording of storage errors, shared by every credential store. The rules for service and profile names live in
 * `src/names.ts`, shared with the `CliAuth` constructor. Private to `adapters/` (the `_` prefix): not exported from
 * `adapters/mod.ts`.
 *
 * @module
 */
import { CliAuthError, type CliAuthErrorCode, type CliAuthErrorOptions } from "../../src/common/errors.ts";
import { quoteName } from "../../src/names.ts";

/**
 * What a store was doing when it failed, for messages such as `Cannot read credentials for profile "work": …`;
 * `"probe"` is the check of whether a keychain can be used at all.
 */
export type StoreAction = "read" | "store" | "delete" | "probe";

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
    : `Cannot ${action} credentials for profile ${quoteName(profile)}`;
  return new CliAuthError(code, `${what}: ${reason}`, options);
}
