// Runs bench/jwt_verify.ts on Node, which (v20) cannot load TypeScript: bench/_node.mjs bundles it with esbuild (a
// devDependency) into bench/.tmp/node/, the packages left external, then Node imports the bundle.
//
//   node bench/jwt_verify.mjs
import { runTs } from "./_node.mjs";

await runTs(new URL("./jwt_verify.ts", import.meta.url));
