// Runs bench/dpop_verify.ts on Node, which (v20) cannot load TypeScript: bench/_node.mjs bundles it with esbuild (a
// devDependency) into bench/.tmp/node/, the packages left external, then Node imports the bundle.
//
//   node bench/dpop_verify.mjs
import { runTs } from "./_node.mjs";

await runTs(new URL("./dpop_verify.ts", import.meta.url));
