// Stores by name (adapters/storage/registry.ts): each row's store is made on first use and reports its kind before
// that; a name no row has is refused with invalid_options (it used to fall through to "auto").
import { describe, expect, it } from "vitest";
import { createStore } from "../../../adapters/storage/registry.ts";
import { CliAuth } from "../../../mod.ts";
import { rejection, throws } from "../../support/reject.ts";

const options = { service: "cli-auth-registry-test", logger: { warn: () => {} } };

describe("createStore()", () => {
  it("knows auto, keychain, file and memory, and reports the kind before loading the store", async () => {
    expect(createStore("keychain", options).kind).toBe("keychain");
    expect(createStore("file", options).kind).toBe("file");
    expect(createStore("auto", options).kind).toBeUndefined();
    const memory = createStore("memory", options);
    expect(memory.kind).toBe("memory");
    await memory.set("default", "{}");
    expect(await memory.get("default")).toBe("{}");
  });

  it("refuses a name it does not know, naming the ones it does", () => {
    for (const name of ["bogus", "Memory", "toString", "__proto__", ""]) {
      const error = throws(() => createStore(name, options));
      expect(error.code, name).toBe("invalid_options");
      expect(error.hint).toBe('Use "auto", "keychain", "file", "memory", or pass a store');
    }
  });

  it("reaches CliAuth: an unknown storage name fails the first method with invalid_options", async () => {
    const auth = new CliAuth({ issuer: "https://auth.example.test", clientId: "cli", service: "cli-auth-test", storage: "bogus" });
    expect((await rejection(auth.status())).code).toBe("invalid_options");
  });
});
