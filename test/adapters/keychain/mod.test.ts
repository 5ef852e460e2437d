// keychainStore() picks its backend when called: Bun.secrets on Bun (not on macOS), else the platform's tool.
import { describe, expect, it } from "vitest";
import { getBunSecrets } from "../../../adapters/keychain/_bun_api.ts";
import { keychainStore } from "../../../adapters/keychain/mod.ts";
import { currentOs, osName } from "../../../adapters/os.ts";
import type { CommandRunner } from "../../../adapters/subprocess.ts";
import { runtimeKey } from "../../support/runtime.ts";

const commands: string[] = [];
const runner: CommandRunner = (command) => {
  commands.push(command);
  return Promise.resolve({ code: 44, stdout: "", stderr: "" });
};

describe("keychainStore()", () => {
  it("uses security on macOS, Credential Manager on Windows, secret-tool elsewhere", () => {
    expect(keychainStore({ service: "s", platform: "darwin", runner }).backend).toBe("security");
    expect(keychainStore({ service: "s", platform: "win32", runner }).backend).toBe("credential-manager");
    expect(keychainStore({ service: "s", platform: "linux", runner }).backend).toBe("secret-tool");
    expect(keychainStore({ service: "s", platform: "freebsd", runner }).backend).toBe("secret-tool");
    // The adapters' OS names work as well as process.platform values.
    expect(keychainStore({ service: "s", platform: "windows", runner }).backend).toBe("credential-manager");
    expect(keychainStore({ service: "s", platform: "other", runner }).backend).toBe("secret-tool");
  });

  it("runs the chosen tool through the given runner", async () => {
    commands.length = 0;
    expect(await keychainStore({ service: "s", platform: "darwin", runner }).get("default")).toBeNull();
    expect(commands).toEqual(["/usr/bin/security"]);
  });

  it("prefers Bun.secrets on Bun, unless a runner, an env or bunSecrets: false is given", () => {
    const native = runtimeKey() === "bun" ? "bun-secrets" : "secret-tool";
    expect(keychainStore({ service: "s", platform: "linux" }).backend).toBe(native);
    expect(keychainStore({ service: "s", platform: "linux", bunSecrets: false }).backend).toBe("secret-tool");
    expect(keychainStore({ service: "s", platform: "linux", env: {} }).backend).toBe("secret-tool");
    expect(keychainStore({ service: "s", platform: "win32", runner }).backend).toBe("credential-manager");
  });

  it("uses security on macOS under Bun too, so items trust /usr/bin/security and not the (changing) binary", () => {
    // Off Bun, a stand-in Bun.secrets makes the choice the same as on Bun.
    const g = globalThis as { Bun?: unknown };
    const standIn = g.Bun === undefined;
    if (standIn) g.Bun = { secrets: { get: () => null, set: () => undefined, delete: () => false } };
    try {
      expect(getBunSecrets()).toBeDefined();
      expect(keychainStore({ service: "s", platform: "darwin" }).backend).toBe("security");
      // Where the keychain trusts no binary in particular, Bun.secrets stays.
      expect(keychainStore({ service: "s", platform: "linux" }).backend).toBe("bun-secrets");
      expect(keychainStore({ service: "s", platform: "win32" }).backend).toBe("bun-secrets");
    } finally {
      if (standIn) delete g.Bun;
    }
  });

  it("reads the platform when called", () => {
    expect(currentOs()).toBe(osName(process.platform));
    expect(keychainStore({ service: "s", bunSecrets: false }).backend).toBe("secret-tool");
  });

  it("rejects an unusable service name with invalid_options", () => {
    for (const service of ["", "a/b", "..", "x".repeat(200)]) {
      expect(() => keychainStore({ service, runner })).toThrow(/Invalid `service`/);
    }
  });
});
