// The CliAuthError a promise rejects with; fails the test when it resolves or rejects with something else.
import { expect } from "vitest";
import { CliAuthError } from "../../src/common/errors.ts";

export async function rejection(promise: Promise<unknown>): Promise<CliAuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CliAuthError);
    return error as CliAuthError;
  }
  throw new Error("expected a rejection");
}

/** The CliAuthError a function throws; fails the test when it returns or throws something else. */
export function throws(fn: () => unknown): CliAuthError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliAuthError);
    return error as CliAuthError;
  }
  throw new Error("expected a throw");
}
