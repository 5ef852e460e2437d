import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global_setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Tests start their own provider, browser and keyring: a few files at a time keeps 2 cores responsive.
    maxWorkers: 3,
  },
});
