// Runs bench/dpop_verify.ts on Node, which (v20) cannot load TypeScript: rolldown (already installed with vitest,
// through vite) bundles it into bench/.tmp/ with the packages left external, then Node imports the bundle.
//
//   node bench/dpop_verify.mjs
import { fileURLToPath } from "node:url";

let build;
try {
  ({ build } = await import("rolldown"));
} catch {
  console.error("bench/dpop_verify.mjs needs rolldown (installed with vitest); run `npm ci` first");
  process.exit(1);
}
const input = fileURLToPath(new URL("./dpop_verify.ts", import.meta.url));
const file = fileURLToPath(new URL("./.tmp/dpop_verify.node.mjs", import.meta.url));
await build({
  input,
  platform: "node",
  external: [/^node:/, "jose", "oauth4webapi"],
  logLevel: "warn",
  output: { file, format: "esm" },
});
await import(new URL("./.tmp/dpop_verify.node.mjs", import.meta.url).href);
