/**
 * The stores a `storage` name stands for: one row per store, each loaded on first use by a literal `import()` (so
 * compiled binaries include them, and a CLI that reads one store never loads the others) behind a lazy store, which
 * reports the row's kind until then. Adding a store is one file and one row here; the core (`src/`) never names a
 * store.
 *
 * @module
 */

import { CliAuthError } from "../../src/common/errors.ts";
import type { CreateStore, CredentialStore, Logger, StorageKind } from "../../src/contracts.ts";

/** One store: the kind `status()` reports before it is loaded (`undefined` when only the store knows), and its maker. */
interface StoreRow {
  readonly kind: StorageKind | undefined;
  make(options: { service: string; logger: Logger }): Promise<CredentialStore>;
}

const STORES: Record<string, StoreRow> = {
  // The OS keychain, else the 0600 file with one warning.
  auto: { kind: undefined, make: async (options) => (await import("./auto.ts")).autoStore(options) },
  keychain: { kind: "keychain", make: async ({ service }) => (await import("../keychain/mod.ts")).keychainStore({ service }) },
  file: { kind: "file", make: async (options) => (await import("./file.ts")).fileStore(options) },
  memory: { kind: "memory", make: async () => (await import("./memory.ts")).memoryStore() },
};

/**
 * The store `storage` names: `"auto"` (keychain, else the 0600 file with one warning), `"keychain"`, `"file"` or
 * `"memory"`. Nothing is loaded until the store is used.
 *
 * @param name the store's name
 * @param options the service and where warnings go
 * @returns the store
 * @throws {CliAuthError} `invalid_options` for a name no row has
 *
 * @example Usage
 * ```ts
 * import { createStore } from "./registry.ts";
 * const store = createStore("file", { service: "my-cli", logger: { warn: (m) => console.error(m) } });
 * ```
 */
export const createStore: CreateStore = (name, options) => {
  const row = Object.hasOwn(STORES, name) ? STORES[name] : undefined;
  if (!row) {
    throw new CliAuthError("invalid_options", `Unknown storage ${JSON.stringify(name)}`, {
      hint: `Use ${Object.keys(STORES).map((key) => `"${key}"`).join(", ")}, or pass a store`,
    });
  }
  const { service, logger } = options;
  return lazyStore(row.kind, () => row.make({ service, logger }));
};

/**
 * Wraps a store that is created on first use.
 *
 * @param kind the kind to report before the store is loaded (`undefined` when only the store knows, as `"auto"`)
 * @param load creates the store
 * @returns a store that delegates to it
 *
 * @example Usage
 * ```ts
 * import { memoryStore } from "@x/cli-auth/adapters";
 * import { lazyStore } from "./registry.ts";
 * const store = lazyStore("memory", () => Promise.resolve(memoryStore()));
 * await store.set("default", "{}");
 * ```
 */
export function lazyStore(kind: StorageKind | undefined, load: () => Promise<CredentialStore>): CredentialStore {
  let loaded: CredentialStore | undefined;
  let loading: Promise<CredentialStore> | undefined;
  const store = () =>
    loading ??= load().then((value) => {
      loaded = value;
      return value;
    });
  return {
    get kind() {
      return loaded?.kind ?? kind;
    },
    get: async (key) => await (await store()).get(key),
    set: async (key, value) => await (await store()).set(key, value),
    delete: async (key) => await (await store()).delete(key),
  };
}
