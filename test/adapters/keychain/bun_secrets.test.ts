// bunSecretsStore(): with a fake Bun.secrets for the mapping, and with the real one in a `bun` child process against
// a private Secret Service (so this runs the same under Node, Bun and Deno), read back through secret-tool.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BunSecrets, bunSecretsStore, getBunSecrets } from "../../../adapters/keychain/bun_secrets.ts";
import { linuxKeychainStore } from "../../../adapters/keychain/linux.ts";
import { runBun } from "../../support/bun_child.ts";
import { noBusEnv, startKeyring, type TestKeyring } from "../../support/keyring.ts";
import { rejection } from "../../support/reject.ts";
import { runtimeKey } from "../../support/runtime.ts";

/** Behaves like Bun.secrets: "" deletes, NUL is refused. */
function fakeSecrets(): BunSecrets & { items: Map<string, string>; fail?: Error } {
  const items = new Map<string, string>();
  const fake = {
    items,
    fail: undefined as Error | undefined,
    get({ service, name }: { service: string; name: string }) {
      if (fake.fail) return Promise.reject(fake.fail);
      return Promise.resolve(items.get(`${service}/${name}`) ?? null);
    },
    set({ service, name, value }: { service: string; name: string; value: string }) {
      if (fake.fail) return Promise.reject(fake.fail);
      if (value.includes("\0")) return Promise.reject(new TypeError("Expected strings without null bytes"));
      if (value === "") items.delete(`${service}/${name}`);
      else items.set(`${service}/${name}`, value);
      return Promise.resolve();
    },
    delete({ service, name }: { service: string; name: string }) {
      if (fake.fail) return Promise.reject(fake.fail);
      return Promise.resolve(items.delete(`${service}/${name}`));
    },
  };
  return fake;
}

describe("bunSecretsStore() on a fake Bun.secrets", () => {
  it("round-trips values, including the empty string Bun would treat as a delete", async () => {
    const secrets = fakeSecrets();
    const store = bunSecretsStore({ service: "my-cli", secrets, platform: "linux" });
    expect(store.backend).toBe("bun-secrets");
    const big = "b".repeat(30_000);
    for (const value of ["{\"a\":1}", "", big, "Émilie 🚀"]) {
      await store.set("default", value);
      expect(await store.get("default")).toBe(value);
    }
    expect(secrets.items.get("my-cli/default")).toBe("Émilie 🚀");
    expect(secrets.items.size).toBe(1); // no parts left from the empty value's manifest
    await store.delete("default");
    expect(await store.get("default")).toBeNull();
  });

  it("splits at 1,280 bytes on Windows, where a credential blob holds 2,560", async () => {
    const secrets = fakeSecrets();
    const store = bunSecretsStore({ service: "my-cli", secrets, platform: "win32" });
    const value = "é".repeat(1_000); // 2,000 bytes
    await store.set("default", value);
    expect(await store.get("default")).toBe(value);
    expect(secrets.items.size).toBe(3);
    for (const item of secrets.items.values()) expect(new TextEncoder().encode(item).length).toBeLessThanOrEqual(1_280);
  });

  it("on Windows writes case-safe names, and reads the raw names of earlier versions where they are unambiguous", async () => {
    const secrets = fakeSecrets(); // names as written; Credential Manager's folding does not matter for this test
    const store = bunSecretsStore({ service: "my-cli", secrets, platform: "win32" });
    // What an earlier version wrote: raw names.
    const client = "client:https://auth.example.com";
    secrets.items.set(`my-cli/${client}`, "client");
    secrets.items.set("my-cli/me@corp", "me");
    await store.set("Prod", "upper");
    expect([...secrets.items.keys()].sort()).toEqual(["my-cli/%50rod", `my-cli/${client}`, "my-cli/me@corp"]);
    expect(await store.get(client)).toBe("client");
    expect(await store.get("me@corp")).toBe("me");
    await store.set(client, "client again"); // moved to its case-safe name
    await store.delete("me@corp"); // gone under both names
    expect([...secrets.items.keys()].sort()).toEqual(["my-cli/%50rod", "my-cli/client%3ahttps%3a%2f%2fauth.example.com"]);
    expect(await store.get(client)).toBe("client again");
    expect(await store.get("me@corp")).toBeNull();
  });

  it("maps failures: NUL is invalid_options, platform errors are storage_unavailable", async () => {
    const secrets = fakeSecrets();
    const store = bunSecretsStore({ service: "my-cli", secrets });
    expect((await rejection(store.set("default", "a\0b"))).code).toBe("invalid_options");

    secrets.fail = Object.assign(new Error("Cannot autolaunch D-Bus without X11 $DISPLAY"), {
      code: "ERR_SECRETS_PLATFORM_ERROR",
    });
    const error = await rejection(store.get("default"));
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toBe(
      'Cannot read credentials for profile "default": the Secret Service cannot be reached over D-Bus',
    );
    secrets.fail = Object.assign(new Error("something else"), { code: "ERR_SECRETS_PLATFORM_ERROR" });
    expect((await rejection(store.probe())).message).toBe(
      "Cannot use the keychain: Bun.secrets failed (ERR_SECRETS_PLATFORM_ERROR)",
    );
  });

  it("finds Bun.secrets only on Bun", () => {
    expect(getBunSecrets() !== undefined).toBe(runtimeKey() === "bun");
    if (runtimeKey() !== "bun") {
      expect(() => bunSecretsStore({ service: "my-cli" })).toThrow("Cannot use the keychain: this runtime has no Bun.secrets");
    }
  });
});

interface ChildAnswer {
  ok: boolean;
  backend?: string;
  value?: string | null;
  code?: string;
  message?: string;
}

async function inBun(env: Record<string, string | undefined>, command: Record<string, unknown>): Promise<ChildAnswer> {
  const { code, stdout, stderr } = await runBun("./bun_secrets_child.ts", [JSON.stringify(command)], env);
  try {
    return JSON.parse(stdout) as ChildAnswer;
  } catch {
    throw new Error(`bun child exited with ${code}: ${stdout}\n${stderr}`);
  }
}

describe("bunSecretsStore() on the real Bun.secrets (bun child process, private Secret Service)", () => {
  let keyring: TestKeyring;
  beforeAll(async () => {
    keyring = await startKeyring();
  });
  afterAll(async () => {
    await keyring?.stop();
  });

  it("round-trips large and unicode values, and shares entries with secret-tool both ways", async () => {
    const service = "cli-auth-test-bun";
    const viaSecretTool = linuxKeychainStore({ service, env: keyring.env });
    const big = JSON.stringify({ accessToken: "t".repeat(20_000), name: "Zoë 東京" });

    expect(await inBun(keyring.env, { op: "probe", service, profile: "x" })).toEqual({ ok: true, backend: "bun-secrets" });
    expect((await inBun(keyring.env, { op: "set", service, profile: "default", value: big })).ok).toBe(true);
    expect((await inBun(keyring.env, { op: "get", service, profile: "default" })).value).toBe(big);
    expect(await viaSecretTool.get("default")).toBe(big); // Bun stores it whole; secret-tool reads it

    await viaSecretTool.set("work", big); // secret-tool splits it into parts; Bun reassembles them
    expect((await inBun(keyring.env, { op: "get", service, profile: "work" })).value).toBe(big);

    expect((await inBun(keyring.env, { op: "delete", service, profile: "default" })).ok).toBe(true);
    expect(await viaSecretTool.get("default")).toBeNull();
    expect((await inBun(keyring.env, { op: "get", service, profile: "default" })).value).toBeNull();
  });

  it("says the Secret Service cannot be reached when there is no D-Bus session", async () => {
    const noBus = await noBusEnv();
    try {
      const answer = await inBun(noBus.env, { op: "probe", service: "cli-auth-test-bun", profile: "x" });
      expect(answer).toEqual({
        ok: false,
        code: "storage_unavailable",
        message: "Cannot use the keychain: the Secret Service cannot be reached over D-Bus",
      });
    } finally {
      await noBus.cleanup();
    }
  });
});
