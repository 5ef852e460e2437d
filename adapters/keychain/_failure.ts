/**
 * Turning a failed run of a keychain tool into a {@link CliAuthError}. Subprocess output is never copied into the
 * error: `security` prints passwords on stderr, and tools may echo their input. A backend may recognise a few known
 * phrases to say *why* (the keyring is locked, there is no D-Bus session), and words the reason itself.
 *
 * @module
 */
import type { CliAuthError } from "../../src/common/errors.ts";
import { type StoreAction, storeError } from "../storage/_store_error.ts";
import type { CommandResult } from "../subprocess.ts";

/** What a backend knows about the tool it ran. */
export interface ToolContext {
  /** The tool as users know it: `secret-tool`, `security`, `PowerShell`. */
  tool: string;
  action: StoreAction;
  profile: string;
  timeoutMs: number;
  /** What to do when the tool is not installed. */
  missingHint: string;
}

/** A reason (and hint) a backend derived from a failed run, in its own words. */
export interface FailureReason {
  reason: string;
  hint?: string;
}

/** The `storage_unavailable` error for a run that did not succeed. */
export function toolFailure(
  result: CommandResult,
  context: ToolContext,
  classify?: (result: CommandResult) => FailureReason | undefined,
): CliAuthError {
  const { tool, action, profile } = context;
  switch (result.error) {
    case "not_found":
      return storeError("storage_unavailable", action, profile, `${tool} is not installed`, { hint: context.missingHint });
    case "timeout":
      return storeError("storage_unavailable", action, profile, `${tool} did not finish within ${context.timeoutMs} ms`, {
        hint: "The keychain may be waiting to be unlocked: unlock it and try again, or raise `timeoutMs`",
      });
    case "spawn_failed":
      return storeError("storage_unavailable", action, profile, `${tool} could not be started`, {
        hint: context.missingHint,
      });
  }
  const known = classify?.(result);
  if (known) return storeError("storage_unavailable", action, profile, known.reason, { hint: known.hint });
  return storeError("storage_unavailable", action, profile, `${tool} failed with exit code ${result.code ?? "unknown"}`, {
    hint: 'Check that the keychain works for your user, or use `storage: "file"`',
  });
}
