// What a pending login is bound to (a finding of the security review of beginLogin / resumeLogin), against the real
// provider: a pending login begun at one authorization server (found from a resource URL) is never resumed at another,
// nor for other resources; its device code, PKCE verifier and client id go nowhere but where they came from.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth } from "../../mod.ts";
import { approveDevice, authorizeWithoutBrowser } from "../support/interact.ts";
import { countingStore, PENDING_LOGIN_KEY } from "../support/login.ts";
import { DEVICE_GRANT, startProvider, type TestProvider } from "../support/provider.ts";
import { rejection } from "../support/reject.ts";
import { type ResourceServer, startResourceServer } from "../support/resource_server.ts";

const CODE_GRANT = "authorization_code";

let serverA: TestProvider;
let serverB: TestProvider;
let apiA: ResourceServer;
let apiA2: ResourceServer;
let apiB: ResourceServer;

beforeAll(async () => {
  [apiA, apiA2, apiB] = await Promise.all([startResourceServer(), startResourceServer(), startResourceServer()]);
  const resource = { format: "jwt", scope: "api:read" } as const;
  [serverA, serverB] = await Promise.all([
    startProvider({ deviceInterval: 1, registration: true, resources: { [apiA.resource]: resource, [apiA2.resource]: resource } }),
    startProvider({ deviceInterval: 1, registration: true, resources: { [apiB.resource]: resource } }),
  ]);
  apiA.trust(serverA.issuer);
  apiA2.trust(serverA.issuer);
  apiB.trust(serverB.issuer);
});
afterAll(async () => {
  await Promise.all([serverA?.close(), serverB?.close(), apiA?.close(), apiA2?.close(), apiB?.close()]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function stored(store: ReturnType<typeof countingStore>): Record<string, unknown> | undefined {
  const value = store.values.get(PENDING_LOGIN_KEY);
  return value === undefined ? undefined : JSON.parse(value);
}

describe("a pending login is bound to the authorization server and resources it was begun for", () => {
  const fromResource = (store: ReturnType<typeof countingStore>, resource: string) =>
    new CliAuth({ service: "cli-auth-pending-binding", storage: store, resource, allowInsecureRequests: true });

  it("device: a configuration resolving to another server is refused with issuer_mismatch before any token request", async () => {
    const store = countingStore();
    const pending = await fromResource(store, apiA.resource).beginLogin();
    const before = store.values.get(PENDING_LOGIN_KEY)!;
    const deviceCode = stored(store)!.deviceCode as string;
    await sleep(1_100);
    await serverB.reset();
    const error = await rejection(fromResource(store, apiB.resource).resumeLogin());
    expect((await serverB.tokenRequests(DEVICE_GRANT)).length, "device code sent to the other server").toBe(0);
    expect(error.code).toBe("issuer_mismatch");
    expect(`${error.message} ${error.hint}`).not.toContain(deviceCode);
    expect(store.values.get(PENDING_LOGIN_KEY)).toBe(before);
    // The configuration that began it still finishes it.
    await approveDevice(serverA.issuer, pending.userCode!, { login: "bound-user" });
    const resumed = await fromResource(store, apiA.resource).resumeLogin({ wait: true, timeoutMs: 10_000 });
    expect(resumed.done && resumed.result.user?.sub).toBe("bound-user");
  });

  it("manual: the code and verifier never go to another server's token endpoint", async () => {
    const store = countingStore();
    const pending = await fromResource(store, apiA.resource).beginLogin({ flow: "manual" });
    const before = store.values.get(PENDING_LOGIN_KEY)!;
    const callback = await authorizeWithoutBrowser(pending.authorizationUrl!, { login: "manual-user" });
    await serverB.reset();
    // The bare code: no `iss` in it to tell the servers apart (RFC 9207 would catch a full redirect URL).
    const code = callback.searchParams.get("code")!;
    const error = await rejection(fromResource(store, apiB.resource).resumeLogin({ callbackUrl: code }));
    expect((await serverB.tokenRequests(CODE_GRANT)).length, "code and verifier sent to the other server").toBe(0);
    expect(error.code).toBe("issuer_mismatch");
    expect(store.values.get(PENDING_LOGIN_KEY)).toBe(before);
    const resumed = await fromResource(store, apiA.resource).resumeLogin({ callbackUrl: code });
    expect(resumed.done && resumed.result.user?.sub).toBe("manual-user");
  });

  it("the same server, other resources: refused before any token request", async () => {
    const store = countingStore();
    await fromResource(store, apiA.resource).beginLogin();
    const before = store.values.get(PENDING_LOGIN_KEY)!;
    await sleep(1_100);
    await serverA.reset();
    const error = await rejection(fromResource(store, apiA2.resource).resumeLogin());
    expect((await serverA.tokenRequests(DEVICE_GRANT)).length, "polled for other resources").toBe(0);
    expect(error.code).toBe("issuer_mismatch");
    expect(error.hint).toMatch(/resource/);
    expect(store.values.get(PENDING_LOGIN_KEY)).toBe(before);
  });
});
