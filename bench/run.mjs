// `npm run bench`: runs bench/run.ts on Node 20, which cannot load TypeScript (bench/_node.mjs bundles it first).
//
//   npm run bench          (builds dist/ first: Node's import-cost line loads the built package)
//   node bench/run.mjs     (dist/ must be built)
import { runTs } from "./_node.mjs";

await runTs(new URL("./run.ts", import.meta.url));
