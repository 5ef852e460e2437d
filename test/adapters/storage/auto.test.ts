// autoStore(): one backend per profile. Against a real Secret Service (and one that is missing), plus fake keychains
// for the cases a real one cannot be made to show on demand.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { linuxKeychainStore } from "../../../adapters/keychain/linux.ts";
import { type AutoStoreOptions, autoStore } from "../../../adapters/storage/auto.ts";
import { fileStore } from "../../../adapters/storage/file.ts";
import { memoryStore } from "../../../adapters/storage/memory.ts";
import { CliAuthError } from "../../../src/common/errors.ts";
import { pendingLoginKey, registeredClientKey } from "../../../src/names.ts";
import { noBusEnv, secretTool, startKeyring, type TestKeyring } from "../../support/keyring.ts";
import { rejection } from "../../support/reject.ts";

let keyring: TestKeyring;
let dir: string;
let warnings: string[];
const logger = { warn: (message: string) => void warnings.push(message) };
let serial = 0;

beforeAll(async () => {
  keyring = await startKeyring();
});
afterAll(async () => {
  await keyring?.stop();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-auth-auto-"));
  warnings = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fileOf = () => fileStore({ service: "my-cli", dir, logger });
const fileProfiles = async () => JSON.parse(await readFile(join(dir, "credentials.json"), "utf8")).profiles;

function realAuto() {
  const service = `cli-auth-test-auto-${++serial}`;
  const keychain = linuxKeychainStore({ service, env: keyring.env });
  return { service, keychain, store: autoStore({ service, logger, keychain, file: fileOf() }) };
}

describe("autoStore() with a working keychain", () => {
  it("keeps credentials in the keychain and none in the file", async () => {
    const { service, store } = realAuto();
    expect(store.kind).toBeUndefined();
    await store.set("default", '{"accessToken":"k"}');
    expect(store.kind).toBe("keychain");
    expect(await store.get("default")).toBe('{"accessToken":"k"}');
    expect((await secretTool(keyring, ["lookup", "service", service, "account", "default"])).stdout).toBe(
      '{"accessToken":"k"}',
    );
    expect(await readdir(dir)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("removes the stale file copy of a profile when the keychain is written, and keeps other profiles", async () => {
    const { store } = realAuto();
    await fileOf().set("default", '{"accessToken":"stale"}');
    await fileOf().set("other", '{"accessToken":"other"}');
    await store.set("default", '{"accessToken":"fresh"}');
    expect(await fileProfiles()).toEqual({ other: { accessToken: "other" } });
    expect(await store.get("default")).toBe('{"accessToken":"fresh"}');
  });

  it("serves the keychain's value over a file copy and drops that copy", async () => {
    const { keychain, store } = realAuto();
    await keychain.set("default", '{"accessToken":"keychain"}');
    await fileOf().set("default", '{"accessToken":"file"}');
    expect(await store.get("default")).toBe('{"accessToken":"keychain"}');
    expect(await readdir(dir)).toEqual([]);
  });

  it("moves a file copy into the keychain when the keychain has none", async () => {
    const { keychain, store } = realAuto();
    await fileOf().set("default", '{"accessToken":"from-file"}');
    expect(await store.get("default")).toBe('{"accessToken":"from-file"}');
    expect(await keychain.get("default")).toBe('{"accessToken":"from-file"}');
    expect(await readdir(dir)).toEqual([]);
  });

  it("deletes both copies", async () => {
    const { keychain, store } = realAuto();
    await store.set("default", "v");
    await fileOf().set("default", "stale");
    await store.delete("default");
    expect(await keychain.get("default")).toBeNull();
    expect(await fileOf().get("default")).toBeNull();
    expect(await store.get("default")).toBeNull();
  });

  it("writes to the keychain even when the credentials file is corrupt, and leaves that file alone", async () => {
    const { store } = realAuto();
    await writeFile(join(dir, "credentials.json"), "{oops");
    await store.set("default", "v");
    expect(await store.get("default")).toBe("v");
    await store.delete("default");
    expect(await readFile(join(dir, "credentials.json"), "utf8")).toBe("{oops");
  });
});

describe("autoStore() without a D-Bus session", () => {
  it("falls back to the file with exactly one warning saying where the credentials are", async () => {
    const noBus = await noBusEnv();
    try {
      const store = autoStore({ service: "my-cli", logger, dir, env: noBus.env, platform: "linux" });
      await store.set("default", '{"accessToken":"a"}');
      await store.set("work", '{"accessToken":"w"}');
      expect(await store.get("default")).toBe('{"accessToken":"a"}');
      await store.delete("work");
      expect(await store.active()).toBe("file");
      expect(store.kind).toBe("file");
      const file = join(dir, "credentials.json");
      expect(warnings).toEqual([
        "Cannot use the keychain: there is no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set); " +
        `credentials are stored in the file ${file} instead, readable only by you`,
      ]);
      expect(await fileProfiles()).toEqual({ default: { accessToken: "a" } });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await noBus.cleanup();
    }
  });
});

describe("autoStore() falling back: when it warns", () => {
  const unavailableKeychain = () => ({
    ...memoryStore(),
    probe: () => Promise.reject(new CliAuthError("storage_unavailable", "Cannot use the keychain: nope")),
  });

  it("says nothing on deciding, on finding nothing, on reads, or on rewriting a profile the file holds (a refresh)", async () => {
    await fileOf().set("default", '{"accessToken":"old"}');
    const store = autoStore({ service: "my-cli", logger, keychain: unavailableKeychain(), file: fileOf() });
    expect(await store.active()).toBe("file");
    expect(await store.get("missing")).toBeNull();
    expect(await store.get("default")).toBe('{"accessToken":"old"}');
    await store.set("default", '{"accessToken":"new"}');
    await store.delete("missing");
    expect(warnings).toEqual([]);
  });

  it("warns once, naming the file, when a profile is first stored in it", async () => {
    const store = autoStore({ service: "my-cli", logger, keychain: unavailableKeychain(), file: fileOf() });
    await store.set("work", '{"accessToken":"w"}');
    await store.set("work", '{"accessToken":"w2"}');
    await store.set("other", '{"accessToken":"o"}');
    expect(warnings).toEqual([
      `Cannot use the keychain: nope; credentials are stored in the file ${join(dir, "credentials.json")} instead, readable only by you`,
    ]);
  });

  it("says nothing for what a login keeps beside the profile (a pending login, a registered client); the session's first write warns", async () => {
    // A sign-in driven across processes writes its pending half in one process and the session in another: one
    // warning for the flow, when the credentials themselves land in the file.
    const first = autoStore({ service: "my-cli", logger, keychain: unavailableKeychain(), file: fileOf() });
    await first.set(pendingLoginKey("default"), '{"deviceCode":"d"}');
    await first.set(registeredClientKey("https://issuer.example/"), '{"clientId":"c"}');
    expect(warnings).toEqual([]);
    const later = autoStore({ service: "my-cli", logger, keychain: unavailableKeychain(), file: fileOf() });
    await later.set("default", '{"accessToken":"a"}');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(join(dir, "credentials.json"));
  });
});

describe("autoStore() decisions (fake keychains)", () => {
  type Keychain = NonNullable<AutoStoreOptions["keychain"]>;
  const unavailable = () => new CliAuthError("storage_unavailable", "Cannot use the keychain: nope");

  it("probes once, even for many concurrent first calls", async () => {
    let probes = 0;
    const keychain: Keychain = {
      ...memoryStore(),
      probe: async () => {
        probes++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      },
    };
    const store = autoStore({ service: "my-cli", logger, keychain, file: fileOf() });
    await Promise.all([store.get("a"), store.set("b", "1"), store.active(), store.delete("c")]);
    await store.get("b");
    expect(probes).toBe(1);
    expect(store.kind).toBe("keychain");
  });

  it("reports a keychain that fails after it was chosen, instead of switching to the file", async () => {
    const keychain: Keychain = {
      ...memoryStore(),
      set: () => Promise.reject(unavailable()),
      probe: () => Promise.resolve(),
    };
    const store = autoStore({ service: "my-cli", logger, keychain, file: fileOf() });
    expect((await rejection(store.set("default", "v"))).code).toBe("storage_unavailable");
    expect(await readdir(dir)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("keeps serving a file copy the keychain reads past but refuses to store (a locked keyring)", async () => {
    const keychain: Keychain = {
      get: () => Promise.resolve(null),
      set: () => Promise.reject(unavailable()),
      delete: () => Promise.resolve(),
      probe: () => Promise.resolve(),
    };
    await fileOf().set("default", "from-file");
    const store = autoStore({ service: "my-cli", logger, keychain, file: fileOf() });
    expect(await store.get("default")).toBe("from-file");
    expect(await fileOf().get("default")).toBe("from-file");
  });

  it("does not take a probe error other than storage_unavailable as a verdict", async () => {
    let calls = 0;
    const keychain: Keychain = {
      ...memoryStore(),
      probe: () => (++calls === 1 ? Promise.reject(new CliAuthError("invalid_options", "bad")) : Promise.resolve()),
    };
    const store = autoStore({ service: "my-cli", logger, keychain, file: fileOf() });
    expect((await rejection(store.get("default"))).code).toBe("invalid_options");
    expect(store.kind).toBeUndefined();
    expect(await store.active()).toBe("keychain");
    expect(warnings).toEqual([]);
  });

  it("treats a keychain without probe() as usable", async () => {
    const store = autoStore({ service: "my-cli", logger, keychain: memoryStore(), file: fileOf() });
    await store.set("default", "v");
    expect(store.kind).toBe("keychain");
    expect(await readdir(dir)).toEqual([]);
  });
});
