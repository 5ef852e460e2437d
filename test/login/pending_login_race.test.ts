// Who may change a pending login while a resume's token request is in flight (a finding of the security review of
// beginLogin / resumeLogin / cancelLogin), against the real provider: a cancel or a new beginLogin() meanwhile is not
// undone by that resume when its answer comes (slow_down, done), and neither waits for the poll.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth, type CliAuthOptions, type FetchLike, type ResumeLoginOptions, type ResumeLoginResult } from "../../mod.ts";
import { approveDevice, authorizeWithoutBrowser } from "../support/interact.ts";
import { countingStore, PENDING_LOGIN_KEY, testOptions } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";


let provider: TestProvider;

beforeAll(async () => {
  provider = await startProvider({ deviceInterval: 1 });
});
afterAll(async () => {
  await provider?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fetch whose token requests of `grant` (device code, or authorization code) wait at a gate the test opens: a poll held in flight. */
function heldPoll(grant = "device_code") {
  let release!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const inFlight = new Promise<void>((resolve) => (entered = resolve));
  const fetch: FetchLike = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const body = init?.body instanceof URLSearchParams ? init.body.toString() : String(init?.body ?? "");
    if (url.endsWith("/token") && new URLSearchParams(body).get("grant_type")?.endsWith(grant)) {
      entered();
      await gate;
    }
    return await globalThis.fetch(input, init);
  };
  return { fetch, release, inFlight };
}

describe("a resume does not undo what happened while its token request was in flight", () => {
  const auth = (store: ReturnType<typeof countingStore>, extra: Partial<CliAuthOptions> = {}) =>
    new CliAuth(testOptions(provider.issuer, { storage: store, service: "cli-auth-pending-race", ...extra }));

  /** Runs `during` while a resume's token request is held in flight, then lets it go; both results. */
  async function whileResuming<T>(
    store: ReturnType<typeof countingStore>,
    during: () => Promise<T>,
    resume: ResumeLoginOptions = {},
    grant?: string,
  ): Promise<[ResumeLoginResult, T]> {
    const held = heldPoll(grant);
    const resuming = auth(store, { fetch: held.fetch }).resumeLogin(resume);
    await held.inFlight;
    const meanwhile = await during();
    held.release();
    return [await resuming, meanwhile];
  }

  it("cancelLogin() during a poll answered slow_down stays cancelled", async () => {
    const store = countingStore();
    await auth(store).beginLogin();
    await sleep(1_100);
    await provider.slowDown(1);
    // Neither a cancel nor a new sign-in waits for a poll in flight (the lock is not held across it).
    const [resumed, cancelled] = await whileResuming(store, () => auth(store).cancelLogin());
    expect(resumed.done).toBe(false);
    expect(cancelled).toEqual({ cancelled: true });
    expect(store.values.has(PENDING_LOGIN_KEY), "the cancelled sign-in came back").toBe(false);
  });

  it("a new beginLogin() during a poll answered slow_down is not overwritten by the old one", async () => {
    const store = countingStore();
    await auth(store).beginLogin();
    await sleep(1_100);
    await provider.slowDown(1);
    const [, second] = await whileResuming(store, () => auth(store).beginLogin());
    expect((await auth(store).status()).pendingLogin?.userCode, "the new sign-in was replaced by the old").toBe(second.userCode);
  });

  it("an old sign-in completing does not remove a newer pending one", async () => {
    const store = countingStore();
    const first = await auth(store).beginLogin();
    await approveDevice(provider.issuer, first.userCode!, { login: "old-user" });
    await sleep(1_100);
    const [resumed, second] = await whileResuming(store, () => auth(store).beginLogin());
    expect(resumed.done && resumed.result.user?.sub).toBe("old-user");
    expect((await auth(store).status()).pendingLogin?.userCode, "the newer pending sign-in was removed").toBe(second.userCode);
  });

  it("an old manual sign-in finishing does not remove a newer pending one", async () => {
    const store = countingStore();
    const first = await auth(store).beginLogin({ flow: "manual" });
    const callback = await authorizeWithoutBrowser(first.authorizationUrl!, { login: "manual-old" });
    const [resumed, second] = await whileResuming(store, () => auth(store).beginLogin(), { callbackUrl: callback.href }, "authorization_code");
    expect(resumed.done && resumed.result.user?.sub).toBe("manual-old");
    expect((await auth(store).status()).pendingLogin?.userCode, "the newer pending sign-in was removed").toBe(second.userCode);
  });
});
