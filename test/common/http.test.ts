// Transport rules every request follows, with fetch replaced by a function (unit tests: no server involved).
import { describe, expect, it } from "vitest";
import { type CliAuthError, createProtocolContext, pollDeviceToken, refreshTokens, resolveAuthorizationServer } from "../../src/mod.ts";

const as = { issuer: "https://auth.example.com", token_endpoint: "https://auth.example.com/token" };

function contextAnswering(status: number, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) {
  const fetch = () => Promise.resolve(new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers }));
  return createProtocolContext(as, { clientId: "my-cli", http: { fetch } });
}

describe("token responses", () => {
  it("treats a 200 carrying an OAuth error as that error (GitHub answers device polls this way)", async () => {
    expect(await pollDeviceToken(contextAnswering(200, { error: "authorization_pending" }), "dc")).toEqual({ status: "authorization_pending" });
    expect(await pollDeviceToken(contextAnswering(200, { error: "slow_down" }), "dc")).toEqual({ status: "slow_down" });
    const denied = await pollDeviceToken(contextAnswering(200, { error: "access_denied" }), "dc").catch((e) => e);
    expect((denied as CliAuthError).code).toBe("access_denied");
  });

  it("still accepts a 200 token response", async () => {
    const result = await pollDeviceToken(contextAnswering(200, { access_token: "at", token_type: "bearer", expires_in: 60 }), "dc");
    expect(result.status).toBe("complete");
  });

  it("refuses a response body larger than maxResponseBytes", async () => {
    const huge = JSON.stringify({ access_token: "x".repeat(2_000_000), token_type: "bearer" });
    const fetch = () => Promise.resolve(new Response(huge, { status: 200, headers: { "content-type": "application/json" } }));
    const context = createProtocolContext(as, { clientId: "my-cli", http: { fetch, maxResponseBytes: 1024 * 1024 } });
    const error = await refreshTokens(context, { accessToken: "a", tokenType: "Bearer", refreshToken: "r" }).catch((e) => e);
    expect((error as CliAuthError).code).toBe("invalid_response");
  });

  it("maps a thrown fetch to network_error with a hint", async () => {
    const fetch = () => Promise.reject(new TypeError("fetch failed"));
    const error = await resolveAuthorizationServer({ issuer: "https://auth.example.com", http: { fetch } }).catch((e) => e);
    expect((error as CliAuthError).code).toBe("network_error");
    expect((error as CliAuthError).hint).toBeTruthy();
  });
});
