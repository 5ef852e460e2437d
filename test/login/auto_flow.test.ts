// login({ flow: "auto" }) end to end against the real provider, on a platform whose environment snapshot the test
// chooses (everything else — listener, stores — is the real adapters of this runtime).
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform } from "../../adapters/mod.ts";
import { CliAuth, type EnvironmentSnapshot, type Platform } from "../../mod.ts";
import { approveDevice, authorizeWithoutBrowser } from "../support/interact.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";

let provider: TestProvider;
let noDevice: TestProvider;

beforeAll(async () => {
  [provider, noDevice] = await Promise.all([startProvider(), startProvider({ deviceFlow: false })]);
});
afterAll(async () => {
  await Promise.all([provider?.close(), noDevice?.close()]);
});

const DESKTOP: EnvironmentSnapshot = { os: "darwin", env: {}, stdinIsTTY: true, stderrIsTTY: true, wsl: false };
const SSH: EnvironmentSnapshot = { os: "linux", env: { SSH_CONNECTION: "10.0.0.2 5 10.0.0.1 22" }, stdinIsTTY: true, stderrIsTTY: true, wsl: false };

/** The real platform, with a chosen environment, a recorded stderr, and stdin answered by `paste`. */
async function platform(
  snapshot: EnvironmentSnapshot,
  paste?: (printed: string) => Promise<string>,
): Promise<Platform & { printed: string[] }> {
  const real = await createPlatform();
  const printed: string[] = [];
  return {
    ...real,
    printed,
    openBrowser: () => Promise.resolve(false),
    terminal: {
      ...real.terminal,
      environment: () => Promise.resolve(snapshot),
      writeStderr: (text) => void printed.push(text),
      readLine: (prompt) => {
        printed.push(prompt);
        return paste ? paste(printed.join("")) : Promise.reject(new Error("no stdin in this test"));
      },
    },
  };
}

function auth(issuer: string, platform: Platform, warnings: string[] = []) {
  return new CliAuth({
    issuer,
    clientId: "cli",
    service: "cli-auth-test",
    storage: "memory",
    allowInsecureRequests: true,
    platform,
    logger: { warn: (message) => void warnings.push(message) },
  });
}

describe("login({ flow: \"auto\" })", () => {
  it("uses the browser flow on a desktop", async () => {
    const result = await auth(provider.issuer, await platform(DESKTOP)).login({
      openBrowser: async (url) => void (await fetch(await authorizeWithoutBrowser(url))).text(),
      onAuthorizationUrl: () => {},
    });
    expect(result.flow).toBe("browser");
  });

  it("uses the device flow over SSH", async () => {
    const result = await auth(provider.issuer, await platform(SSH)).login({
      onDeviceCode: (info) => void approveDevice(provider.issuer, info.userCode),
    });
    expect(result.flow).toBe("device");
  });

  it("uses manual paste over SSH when the server has no device endpoint", async () => {
    const paste = async (printed: string) => {
      const url = /https?:\/\/\S+\/auth\?\S+/.exec(printed)![0];
      return (await authorizeWithoutBrowser(url)).href;
    };
    const result = await auth(noDevice.issuer, await platform(SSH, paste)).login();
    expect(result.flow).toBe("manual");
    expect(result.tokens.accessToken).toBeTruthy();
  });

  it("falls back to the device flow, with one warning, when no loopback port can be bound", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const busy = (blocker.address() as { port: number }).port;
    const warnings: string[] = [];
    try {
      const result = await auth(provider.issuer, await platform(DESKTOP), warnings).login({
        port: busy,
        onDeviceCode: (info) => void approveDevice(provider.issuer, info.userCode),
      });
      expect(result.flow).toBe("device");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("device flow instead");
    } finally {
      blocker.close();
    }
  });

  it("falls back to manual paste when no port can be bound and the server has no device endpoint", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const busy = (blocker.address() as { port: number }).port;
    const paste = async (printed: string) => (await authorizeWithoutBrowser(/https?:\/\/\S+\/auth\?\S+/.exec(printed)![0])).href;
    try {
      const result = await auth(noDevice.issuer, await platform(DESKTOP, paste)).login({ port: busy });
      expect(result.flow).toBe("manual");
    } finally {
      blocker.close();
    }
  });

  it("does not fall back when the browser flow was asked for by name", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const error = await auth(provider.issuer, await platform(DESKTOP)).login({ flow: "browser", port: busy }).catch((e) => e);
      expect(error.code).toBe("port_unavailable");
    } finally {
      blocker.close();
    }
  });
});
