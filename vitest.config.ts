import { defineConfig } from "vitest/config";

// Tests that time how long a child process takes to exit run last and alone: on a 2-core machine, the other files'
// providers, browsers and keyrings running beside them add hundreds of milliseconds of noise to a 200 ms bound.
const ALONE = ["test/hardening/prompt_exit.test.ts"];

const common = {
  globalSetup: ["test/support/global_setup.ts"],
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    // Tests start their own provider, browser and keyring: a few files at a time keeps 2 cores responsive.
    maxWorkers: 3,
    projects: [
      { test: { ...common, name: "suite", include: ["test/**/*.test.ts"], exclude: ALONE, sequence: { groupOrder: 0 } } },
      { test: { ...common, name: "alone", include: ALONE, sequence: { groupOrder: 1 } } },
    ],
  },
});
