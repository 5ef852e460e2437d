// Run from the lock tests on the runtime under test: takes the lock <name> with the default folder (no `dir`), and
// while holding it prints "inside <JSON list of the files in <folder>>". Exits 0, or prints "error <code> <message>".
// argv: <name> <folder>
import { readdir } from "node:fs/promises";
import process from "node:process";
import { withLock } from "../../adapters/lock.ts";
import { isCliAuthError } from "../../src/common/errors.ts";

const [name, folder] = process.argv.slice(2) as [string, string];
try {
  await withLock(name, async () => {
    console.log(`inside ${JSON.stringify(await readdir(folder).catch((error) => String(error.code)))}`);
  }, { timeoutMs: 2_000 });
} catch (error) {
  console.log(`error ${isCliAuthError(error) ? error.code : "unknown"} ${(error as Error).message}`);
}
