// Names across the library (issue 15, item 8): the CliAuth constructor and every store accept and refuse the same
// service and profile names; registered clients live in a namespace no profile can enter; no store folds the case of
// a profile or lets one profile's write touch another's entries. Stores run on fakes of their OS tools where the
// tool is not here (security, PowerShell, Bun.secrets on Windows).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BunSecrets } from "../adapters/keychain/bun_secrets.ts";
import { bunSecretsStore } from "../adapters/keychain/bun_secrets.ts";
import { macosKeychainStore } from "../adapters/keychain/macos.ts";
import { windowsKeychainStore } from "../adapters/keychain/windows.ts";
import { keychainStore } from "../adapters/keychain/mod.ts";
import { autoStore } from "../adapters/storage/auto.ts";
import { fileStore } from "../adapters/storage/file.ts";
import { memoryStore } from "../adapters/storage/memory.ts";
import type { CommandRunner } from "../adapters/subprocess.ts";
import { CliAuth } from "../mod.ts";
import { registeredClientKey } from "../src/protocol/client_registration.ts";
import { pendingLoginKey } from "../src/names.ts";
import type { CredentialStore } from "../src/contracts.ts";
import { isCliAuthError } from "../src/common/errors.ts";
import { fakePowershell } from "./support/fake_powershell.ts";
import { fakeSecurity } from "./support/fake_security.ts";

/** Bun.secrets as it behaves over Credential Manager (names compared without case) or libsecret (exact). */
function fakeBunSecrets(foldCase: boolean): BunSecrets & { items: Map<string, string> } {
  const items = new Map<string, string>();
  const id = (service: string, name: string) => (foldCase ? `${service}/${name}`.toLowerCase() : `${service}/${name}`);
  return {
    items,
    get: ({ service, name }) => Promise.resolve(items.get(id(service, name)) ?? null),
    set: ({ service, name, value }) => {
      if (value === "") items.delete(id(service, name));
      else items.set(id(service, name), value);
      return Promise.resolve();
    },
    delete: ({ service, name }) => Promise.resolve(items.delete(id(service, name))),
  };
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cli-auth-names-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let dirs = 0;
/** Every store, fresh, with the given service. */
function stores(service: string): Record<string, () => CredentialStore> {
  return {
    memory: () => memoryStore(),
    file: () => fileStore({ service, dir: join(root, `d${++dirs}`) }),
    "macOS security": () => macosKeychainStore({ service, runner: fakeSecurity().runner }),
    "Windows Credential Manager": () => windowsKeychainStore({ service, runner: fakePowershell().runner }),
    "Bun.secrets on Linux": () => bunSecretsStore({ service, secrets: fakeBunSecrets(false), platform: "linux" }),
    "Bun.secrets on Windows": () => bunSecretsStore({ service, secrets: fakeBunSecrets(true), platform: "win32" }),
  };
}

const never: CommandRunner = () => Promise.reject(new Error("no tool runs when a name is refused"));
/** Every factory that takes a service name. */
const serviceFactories: Record<string, (service: string) => unknown> = {
  CliAuth: (service) => new CliAuth({ issuer: "https://auth.example.com", clientId: "cli", service, storage: "memory" }),
  fileStore: (service) => fileStore({ service }),
  autoStore: (service) => autoStore({ service, runner: never }),
  "keychainStore (macOS)": (service) => keychainStore({ service, platform: "darwin", runner: never }),
  "keychainStore (Windows)": (service) => keychainStore({ service, platform: "win32", runner: never }),
  "keychainStore (Linux)": (service) => keychainStore({ service, platform: "linux", runner: never }),
  macosKeychainStore: (service) => macosKeychainStore({ service, runner: never }),
  windowsKeychainStore: (service) => windowsKeychainStore({ service, runner: never }),
  bunSecretsStore: (service) => bunSecretsStore({ service, secrets: fakeBunSecrets(false) }),
};

const profile = (name: string) =>
  new CliAuth({ issuer: "https://auth.example.com", clientId: "cli", service: "my-cli", profile: name, storage: "memory" });

/** "accepted", or the code it was refused with ("invalid_options" expected), or the unexpected error. */
function outcome(work: () => unknown): string {
  try {
    work();
    return "accepted";
  } catch (error) {
    return isCliAuthError(error) ? error.code : String(error);
  }
}
async function outcomeAsync(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return "accepted";
  } catch (error) {
    return isCliAuthError(error) ? error.code : String(error);
  }
}

const ISSUER = "https://auth.example.com";
/** A name for a test's output, every character outside printable ASCII escaped. */
const quote = (name: string) =>
  `"${name.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;

describe("one set of name rules for the constructor and every store", () => {
  const goodProfiles = ["default", "Work", "work:part:ci", "a b", "me@corp", "Zoë 東京 🚀", "p*", "x".repeat(256)];
  const badProfiles = [
    "", // empty
    "   ", // only spaces
    "x".repeat(257), // too long
    "a\u0000b", // C0 control
    "a\u007fb", // DEL
    "a\u009bb", // C1 control (CSI)
    "\ud800", // lone surrogate: no UTF-8 of its own, it would collide with U+FFFD
    registeredClientKey(ISSUER), // the registered clients' namespace
    `CLIENT:${ISSUER}`,
    pendingLoginKey("default"), // the pending logins' namespace
    "PENDING-LOGIN:default",
    "pending-login:",
    "work:part:0123456789abcdef:1", // the name of a part of profile "work"
  ];

  it("profile names: what the constructor accepts, every store accepts, and the rest all refuse", async () => {
    const disagreements: string[] = [];
    for (const name of [...goodProfiles, ...badProfiles]) {
      const expected = goodProfiles.includes(name) ? "accepted" : "invalid_options";
      const label = quote(name.length > 20 ? `${name.slice(0, 12)}…(${name.length})` : name);
      const constructed = outcome(() => profile(name));
      if (constructed !== expected) disagreements.push(`CliAuth: ${label} ${constructed}`);
      for (const [store, make] of Object.entries(stores("my-cli"))) {
        // A store takes these: they are the client's key and the pending login's.
        if (name === registeredClientKey(ISSUER) || name === pendingLoginKey("default")) continue;
        const stored = await outcomeAsync(() => make().set(name, "v"));
        if (stored !== expected) disagreements.push(`${store}: ${label} ${stored}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it("service names: what the constructor accepts, every store accepts, and the rest all refuse", () => {
    const good = ["my-cli", "My CLI", "mön-cli", "a.b", "x".repeat(128)];
    const bad = ["", "  ", "a/b", "a\\b", ".", "..", "x".repeat(129), "a\u0000", "a\u007f", "a\u009b", "\udc00", "my:cli", "a*b"];
    const disagreements: string[] = [];
    for (const service of [...good, ...bad]) {
      const expected = good.includes(service) ? "accepted" : "invalid_options";
      for (const [factory, make] of Object.entries(serviceFactories)) {
        const made = outcome(() => make(service));
        if (made !== expected) disagreements.push(`${factory}: ${quote(service.slice(0, 20))} ${made}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it("error messages quote a refused name with its control characters escaped", () => {
    for (const name of ["a\u009b2Jb", "a\u001b[2Jb"]) {
      try {
        profile(name);
        expect.unreachable();
      } catch (error) {
        expect(isCliAuthError(error, "invalid_options")).toBe(true);
        // deno-lint-ignore no-control-regex
        expect((error as Error).message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }
    }
  });
});

describe("registered clients and profiles on every store", () => {
  const client = JSON.stringify({ issuer: ISSUER, clientId: "dyn-1", registeredAt: 1 });

  for (const [name, make] of Object.entries(stores("my-cli"))) {
    it(`${name}: no profile reaches a registered client, and clients never touch profiles`, async () => {
      const store = make();
      await store.set("client", "profile named client");
      await store.set("https", "profile named https");
      await store.set(registeredClientKey(ISSUER), client);
      // A profile cannot be named like the client's key (in any case), so it cannot read, overwrite or erase it.
      for (const like of [registeredClientKey(ISSUER), `Client:${ISSUER}`]) {
        expect(outcome(() => profile(like))).toBe("invalid_options");
      }
      expect(await store.get(registeredClientKey(ISSUER))).toBe(client);
      await store.delete(registeredClientKey(ISSUER));
      expect(await store.get("client")).toBe("profile named client");
      expect(await store.get("https")).toBe("profile named https");
    });

    it(`${name}: a pending login lives beside its profile, and no profile name reaches it`, async () => {
      const store = make();
      await store.set("work", "session");
      await store.set(pendingLoginKey("work"), "pending");
      for (const like of [pendingLoginKey("work"), "Pending-Login:work"]) {
        expect(outcome(() => profile(like))).toBe("invalid_options");
      }
      // Its key follows the profile's rules: a bad profile makes a bad key; a near miss of the prefix is refused.
      for (const bad of [pendingLoginKey("a\u0000b"), pendingLoginKey(""), pendingLoginKey("x".repeat(257)), "Pending-Login:work"]) {
        expect(await outcomeAsync(() => store.set(bad, "v"))).toBe("invalid_options");
      }
      await store.set(pendingLoginKey("x".repeat(256)), "longest");
      expect(await store.get(pendingLoginKey("x".repeat(256)))).toBe("longest");
      await store.delete(pendingLoginKey("work"));
      expect(await store.get("work")).toBe("session");
      expect(await store.get(pendingLoginKey("work"))).toBeNull();
    });

    it(`${name}: profiles that differ only in case are different profiles`, async () => {
      const store = make();
      await store.set("Prod", "upper");
      await store.set("prod", "lower");
      await store.set("PROD", "x".repeat(9_000)); // in parts where the store splits
      expect(await store.get("Prod")).toBe("upper");
      expect(await store.get("prod")).toBe("lower");
      await store.delete("prod");
      expect(await store.get("Prod")).toBe("upper");
      expect(await store.get("PROD")).toBe("x".repeat(9_000));
      expect(await store.get("prod")).toBeNull();
    });

    it(`${name}: writing and deleting profile "work" never touches profile "work:part:ci"`, async () => {
      const store = make();
      await store.set("work:part:ci", "ci session");
      await store.set("work", "w".repeat(9_000)); // in parts where the store splits
      await store.set("work", "small");
      await store.set("work", "w".repeat(9_000));
      await store.delete("work");
      expect(await store.get("work")).toBeNull();
      expect(await store.get("work:part:ci")).toBe("ci session");
    });
  }
});
