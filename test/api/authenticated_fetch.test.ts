// auth.fetch against a resource server on loopback that uses this library's own verifier, with tokens from the
// real provider issued for that resource.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliAuth, CliAuthError } from "../../mod.ts";
import { countingStore, expireStoredSession, loginWithoutBrowser, testOptions } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { type ResourceServer, startResourceServer } from "../support/resource_server.ts";

const REFRESH = "refresh_token";
let provider: TestProvider;
let api: ResourceServer;

beforeAll(async () => {
  api = await startResourceServer();
  provider = await startProvider({ resources: { [api.resource]: { format: "jwt", scope: "api:read api:write" } } });
  api.trust(provider.issuer);
});
afterAll(async () => {
  await Promise.all([provider?.close(), api?.close()]);
});

async function signedIn(extra: Parameters<typeof testOptions>[1] = {}) {
  const store = countingStore();
  const options = testOptions(provider.issuer, { storage: store, resource: api.resource, scopes: ["openid", "offline_access", "api:read"], ...extra });
  const auth = new CliAuth(options);
  await loginWithoutBrowser(auth);
  return { auth, store, options };
}

describe("auth.fetch()", () => {
  it("calls the API with the stored token and makes no token request", async () => {
    const { auth, store } = await signedIn();
    const token = JSON.parse(store.values.get("default")!).tokens.accessToken;
    await provider.reset();
    const response = await auth.fetch(`${api.origin}/api/me`);
    expect(response.status).toBe(200);
    expect((await response.json()).subject).toBe("alice");
    expect(api.seen.at(-1)?.authorization).toBe(`Bearer ${token}`);
    expect((await provider.requests()).filter((r) => r.path === "/token")).toEqual([]);
  });

  it("refreshes once and retries once when the API starts refusing the token", async () => {
    const { auth } = await signedIn();
    await provider.reset();
    const before = api.seen.length;
    api.rejectNext(1);
    const response = await auth.fetch(`${api.origin}/api/echo`, { method: "POST", body: "payload" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ subject: "alice", method: "POST", body: "payload" });
    expect(await provider.tokenRequests(REFRESH)).toHaveLength(1);
    const attempts = api.seen.slice(before);
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.authorization).not.toBe(attempts[1]!.authorization);
  });

  it("returns a second 401 to the caller instead of looping", async () => {
    const { auth } = await signedIn();
    await provider.reset();
    const before = api.seen.length;
    api.rejectNext(5);
    const response = await auth.fetch(`${api.origin}/api/me`);
    expect(response.status).toBe(401);
    expect(api.seen.length - before).toBe(2);
    expect(await provider.tokenRequests(REFRESH)).toHaveLength(1);
    api.rejectNext(0);
  });

  it("does not retry a request whose body cannot be sent twice", async () => {
    const { auth } = await signedIn();
    await provider.reset();
    const before = api.seen.length;
    api.rejectNext(1);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("streamed"));
        controller.close();
      },
    });
    const response = await auth.fetch(`${api.origin}/api/echo`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(response.status).toBe(401);
    expect(api.seen.length - before).toBe(1);
    expect(await provider.tokenRequests(REFRESH)).toHaveLength(0);
  });

  it("throws insufficient_scope with the scopes the API asked for", async () => {
    const { auth } = await signedIn();
    const error = await auth.fetch(`${api.origin}/api/admin`).catch((e) => e);
    expect(error).toBeInstanceOf(CliAuthError);
    expect((error as CliAuthError).code).toBe("insufficient_scope");
    expect((error as CliAuthError).scopes).toEqual(["api:read", "admin"]);
    expect((error as CliAuthError).hint).toContain("api:read admin");
  });

  it("makes exactly one refresh request for 50 concurrent calls on an expiring session", async () => {
    const { store, options } = await signedIn();
    await expireStoredSession(store);
    await provider.reset();
    const auth = new CliAuth({ ...options, storage: store });
    const responses = await Promise.all(Array.from({ length: 50 }, () => auth.fetch(`${api.origin}/api/me`)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(await provider.tokenRequests(REFRESH)).toHaveLength(1);
  });

  it("follows a redirect within the API origin", async () => {
    const { auth } = await signedIn();
    const response = await auth.fetch(`${api.origin}/api/moved`);
    expect(response.status).toBe(200);
    expect((await response.json()).subject).toBe("alice");
  });

  it("refuses another origin before any token is sent", async () => {
    const { auth } = await signedIn();
    let hits = 0;
    const other: Server = createServer((_req, res) => {
      hits++;
      res.end("ok");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const port = (other.address() as { port: number }).port;
    try {
      const error = await auth.fetch(`http://127.0.0.1:${port}/steal`).catch((e) => e);
      expect((error as CliAuthError).code).toBe("invalid_options");
      expect(hits).toBe(0);
      const viaRequest = await auth.fetch(new Request(`http://127.0.0.1:${port}/steal`)).catch((e) => e);
      expect((viaRequest as CliAuthError).code).toBe("invalid_options");
      expect(hits).toBe(0);
    } finally {
      other.closeAllConnections();
      other.close();
    }
  });

  it("throws not_logged_in without a session", async () => {
    const auth = new CliAuth(testOptions(provider.issuer, { resource: api.resource }));
    const error = await auth.fetch(`${api.origin}/api/me`).catch((e) => e);
    expect((error as CliAuthError).code).toBe("not_logged_in");
  });
});
