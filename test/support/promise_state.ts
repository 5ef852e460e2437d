// The state of a promise right now, for tests that must see that something has NOT happened (yet).

/** The state of `promise` after letting pending callbacks run for `waitMs`. */
export function settledState(promise: Promise<unknown>, waitMs = 20): Promise<"pending" | "resolved" | "rejected"> {
  return Promise.race([
    promise.then(() => "resolved" as const, () => "rejected" as const),
    new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), waitMs)),
  ]);
}
