// memoryStore(): the same contract as the other stores, in a Map.
import { describe, expect, it } from "vitest";
import { memoryStore } from "../../../adapters/storage/memory.ts";
import { rejection } from "../../support/reject.ts";

describe("memoryStore()", () => {
  it("round-trips values per profile, starting from initial ones", async () => {
    const store = memoryStore({ default: "d" });
    expect(store.kind).toBe("memory");
    expect(await store.get("default")).toBe("d");
    await store.set("work", "");
    expect(await store.get("work")).toBe("");
    await store.delete("default");
    expect(await store.get("default")).toBeNull();
    expect(await store.get("work")).toBe("");
    await store.delete("missing");
  });

  it("keeps separate stores apart", async () => {
    const a = memoryStore();
    const b = memoryStore();
    await a.set("default", "a");
    expect(await b.get("default")).toBeNull();
  });

  it("rejects (rather than throws) on a bad profile name", async () => {
    const store = memoryStore();
    const pending = store.get("");
    expect(pending).toBeInstanceOf(Promise);
    expect((await rejection(pending)).code).toBe("invalid_options");
  });
});
