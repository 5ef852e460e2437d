// Prints which runtime this vitest run uses, so `npm test` shows node, bun and deno each ran the suite.
import { runtimeName } from "./runtime.ts";

export default function setup(): void {
  console.log(`\n[cli-auth] vitest running under ${runtimeName()}\n`);
}
