// Run by `bun` from the lock tests: increments the number in a file <count> times, each under withLock, with a
// pause between reading and writing so that an unprotected increment would lose updates.
// argv: <lockDir> <counterFile> <count>
import { readFile, writeFile } from "node:fs/promises";
import { withLock } from "../../adapters/lock.ts";

const [dir, file, count] = process.argv.slice(2) as [string, string, string];
for (let i = 0; i < Number(count); i++) {
  await withLock("counter", async () => {
    const value = Number(await readFile(file, "utf8"));
    await new Promise((resolve) => setTimeout(resolve, 1));
    await writeFile(file, String(value + 1));
  }, { dir, timeoutMs: 60_000 });
}
console.log("done");
