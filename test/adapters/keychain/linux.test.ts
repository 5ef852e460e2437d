// linuxKeychainStore() against a real Secret Service (dbus-daemon + gnome-keyring-daemon started here), plus the
// failure mapping with secret-tool faked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linuxKeychainStore } from "../../../adapters/keychain/linux.ts";
import { type CommandResult, type CommandRunner, runCommand, type RunOptions } from "../../../adapters/subprocess.ts";
import { countItems, noBusEnv, secretTool, startKeyring, type TestKeyring } from "../../support/keyring.ts";
import { rejection } from "../../support/reject.ts";

let keyring: TestKeyring;
const calls: { command: string; args: string[]; options?: RunOptions }[] = [];
const recording: CommandRunner = (command, args, options) => {
  calls.push({ command, args: [...args], options });
  return runCommand(command, args, options);
};
let serial = 0;
const newService = () => `cli-auth-test-linux-${++serial}`;
const storeFor = (service: string) => linuxKeychainStore({ service, env: keyring.env, runner: recording });

beforeAll(async () => {
  keyring = await startKeyring();
});
afterAll(async () => {
  await keyring?.stop();
});

const session = (token: string) =>
  JSON.stringify({ accessToken: token, refreshToken: `r-${token}`, tokenType: "Bearer", expiresAt: 1_800_000_000_000 });

describe("linuxKeychainStore() with a real Secret Service", () => {
  it("round-trips set, get and delete, in an item secret-tool finds by service and account", async () => {
    const service = newService();
    const store = storeFor(service);
    expect(await store.get("default")).toBeNull();
    await store.set("default", session("a1"));
    expect(await store.get("default")).toBe(session("a1"));
    const outside = await secretTool(keyring, ["lookup", "service", service, "account", "default"]);
    expect(outside.stdout).toBe(session("a1"));
    await store.set("default", session("a2"));
    expect(await store.get("default")).toBe(session("a2"));
    expect(await countItems(keyring, service)).toBe(1);
    await store.delete("default");
    expect(await store.get("default")).toBeNull();
    expect(await countItems(keyring, service)).toBe(0);
    await store.delete("default"); // deleting nothing is fine
  });

  it("keeps two profiles side by side", async () => {
    const store = storeFor(newService());
    await store.set("work", session("w"));
    await store.set("home", session("h"));
    expect(await store.get("work")).toBe(session("w"));
    expect(await store.get("home")).toBe(session("h"));
    await store.delete("work");
    expect(await store.get("work")).toBeNull();
    expect(await store.get("home")).toBe(session("h"));
  });

  it("stores a 20 KB value in parts, reads it back, and removes old parts on overwrite and delete", async () => {
    const service = newService();
    const store = storeFor(service);
    const big = JSON.stringify({ accessToken: "x".repeat(20_000), name: "Zoë" });
    await store.set("default", big);
    expect(await store.get("default")).toBe(big);
    // 20 KB in parts of at most 8,000 bytes: three parts plus the manifest.
    expect(await countItems(keyring, service)).toBe(4);
    const main = await secretTool(keyring, ["lookup", "service", service, "account", "default"]);
    expect(main.stdout).toMatch(/^cli-auth:chunked:v1:[0-9a-f]{16}:3:[A-Za-z0-9_-]{43}$/);

    const bigger = big.replace("Zoë", "Zoé") + " ".repeat(5_000); // 25 KB: four parts now, none of the old three
    await store.set("default", bigger);
    expect(await store.get("default")).toBe(bigger);
    expect(await countItems(keyring, service)).toBe(5);

    await store.set("default", session("small"));
    expect(await store.get("default")).toBe(session("small"));
    expect(await countItems(keyring, service)).toBe(1);

    await store.set("default", big);
    await store.delete("default");
    expect(await countItems(keyring, service)).toBe(0);
  });

  it("round-trips unicode, newlines, the empty string and a value that looks like a manifest", async () => {
    const store = storeFor(newService());
    const values = [
      JSON.stringify({ name: "Émilie 東京 🚀", note: "a\nb\r\nc\t" }),
      "ends with a newline\n",
      "",
      "cli-auth:chunked:v1:0000000000000000:1:not-a-hash",
      "é".repeat(4_100), // 8,200 bytes: just over one entry, cut between characters
    ];
    for (const [i, value] of values.entries()) {
      await store.set(`p${i}`, value);
      expect(await store.get(`p${i}`)).toBe(value);
    }
  });

  it("passes values on stdin only, never in an argument", async () => {
    calls.length = 0;
    const service = newService();
    const store = storeFor(service);
    const secret = "s3cr3t-refresh-token-" + "z".repeat(9_000);
    await store.set("default", secret);
    expect(await store.get("default")).toBe(secret);
    await store.delete("default");
    expect(calls.length).toBeGreaterThan(3);
    for (const call of calls) {
      expect(call.command).toBe("secret-tool");
      expect(call.args.filter((arg) => arg.includes("s3cr3t") || arg.includes("zzzzzzzz"))).toEqual([]);
    }
    const stores = calls.filter((c) => c.args[0] === "store");
    expect(stores.map((c) => c.options?.stdin).join("")).toContain("s3cr3t-refresh-token-");
    // Parts first, then the profile's own entry (the manifest), tagged with Bun.secrets' schema.
    expect(stores.at(-1)!.args).toEqual([
      "store",
      "--label",
      `${service} (default)`,
      "service",
      service,
      "account",
      "default",
      "xdg:schema",
      "com.oven-sh.bun.Secret",
    ]);
    expect(stores.at(-1)!.options?.stdin).toMatch(/^cli-auth:chunked:v1:[0-9a-f]{16}:2:/);
  });

  it("reports a split value that lost a part as storage_corrupt", async () => {
    const service = newService();
    const store = storeFor(service);
    await store.set("default", "y".repeat(12_000));
    const main = (await secretTool(keyring, ["lookup", "service", service, "account", "default"])).stdout;
    const id = main.split(":")[3];
    await secretTool(keyring, ["clear", "service", service, "account", `default:part:${id}:2`]);
    const error = await rejection(store.get("default"));
    expect(error.code).toBe("storage_corrupt");
    expect(error.message).toBe(
      'Cannot read credentials for profile "default": a part of the keychain entry is missing or was changed',
    );
  });

  it("probe() succeeds on an unlocked keyring and leaves nothing behind", async () => {
    const service = newService();
    await storeFor(service).probe();
    expect(await countItems(keyring, "cli-auth-probe")).toBe(0);
  });

  it("rejects bad profile names with invalid_options", async () => {
    const store = storeFor(newService());
    expect((await rejection(store.get(""))).code).toBe("invalid_options");
    expect((await rejection(store.set("a\nb", "v"))).code).toBe("invalid_options");
    expect((await rejection(store.delete("x".repeat(257)))).code).toBe("invalid_options");
  });
});

describe("linuxKeychainStore() without a D-Bus session", () => {
  it("fails with storage_unavailable naming the missing session, and probe() rejects the same way", async () => {
    const noBus = await noBusEnv();
    try {
      const store = linuxKeychainStore({ service: "cli-auth-test-nobus", env: noBus.env });
      const error = await rejection(store.get("default"));
      expect(error.code).toBe("storage_unavailable");
      expect(error.message).toBe(
        'Cannot read credentials for profile "default": there is no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)',
      );
      expect(error.hint).toContain('storage: "file"');
      const probe = await rejection(store.probe());
      expect(probe.code).toBe("storage_unavailable");
      expect(probe.message).toBe(
        "Cannot use the keychain: there is no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)",
      );
    } finally {
      await noBus.cleanup();
    }
  });
});

describe("linuxKeychainStore() failure mapping (secret-tool faked)", () => {
  const fake = (result: CommandResult): CommandRunner => () => Promise.resolve(result);

  it("says secret-tool is missing, with an install hint", async () => {
    const store = linuxKeychainStore({
      service: "svc",
      runner: fake({ code: null, stdout: "", stderr: "", error: "not_found" }),
    });
    const error = await rejection(store.set("default", "secret-value"));
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toBe('Cannot store credentials for profile "default": secret-tool is not installed');
    expect(error.hint).toContain("libsecret-tools");
  });

  it("says how long it waited when secret-tool times out", async () => {
    const store = linuxKeychainStore({
      service: "svc",
      timeoutMs: 1_234,
      runner: fake({ code: null, stdout: "", stderr: "", error: "timeout" }),
    });
    const error = await rejection(store.get("default"));
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toBe(
      'Cannot read credentials for profile "default": secret-tool did not finish within 1234 ms',
    );
  });

  it("summarizes stderr instead of copying it, and treats a locked keyring as such", async () => {
    const echo = "secret-tool: Cannot create an item in a locked collection: ECHOED-SECRET-VALUE";
    const store = linuxKeychainStore({ service: "svc", runner: fake({ code: 1, stdout: "", stderr: echo }) });
    const error = await rejection(store.set("default", "ECHOED-SECRET-VALUE"));
    expect(error.message).toBe('Cannot store credentials for profile "default": the keyring is locked');
    expect(JSON.stringify({ ...error.toJSON(), cause: String(error.cause) })).not.toContain("ECHOED");

    const other = linuxKeychainStore({ service: "svc", runner: fake({ code: 3, stdout: "", stderr: "weird ECHOED" }) });
    const failure = await rejection(other.get("default"));
    expect(failure.message).toBe('Cannot read credentials for profile "default": secret-tool failed with exit code 3');
    expect(failure.message + failure.hint).not.toContain("ECHOED");
  });

  it("does not trust a store that exited 0 after saying the secret was too long", async () => {
    const store = linuxKeychainStore({
      service: "svc",
      runner: fake({ code: 0, stdout: "", stderr: "secret-tool: password is too long\n" }),
    });
    const error = await rejection(store.set("default", "v"));
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toBe('Cannot store credentials for profile "default": secret-tool refused the value as too long');
  });

  it("runs exactly `secret-tool lookup service <service> account <profile>` to read", async () => {
    const seen: { command: string; args: readonly string[]; options?: RunOptions }[] = [];
    const store = linuxKeychainStore({
      service: "my-cli",
      timeoutMs: 777,
      env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/x" },
      runner: (command, args, options) => {
        seen.push({ command, args, options });
        return Promise.resolve({ code: 0, stdout: "the-value", stderr: "" });
      },
    });
    expect(await store.get("work")).toBe("the-value");
    expect(seen).toEqual([{
      command: "secret-tool",
      args: ["lookup", "service", "my-cli", "account", "work"],
      options: { stdin: undefined, timeoutMs: 777, env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/x" } },
    }]);
  });
});
