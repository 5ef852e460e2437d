// Run by `bun` from the lock tests: takes the lock <name> in <lockDir> with <staleMs>, prints "entered <epoch ms>",
// holds it for <holdMs> (its own work: a timer), prints "left <epoch ms>" and exits. With <holdMs> "throw" it throws
// at once from inside the lock instead, and the process must still end on its own.
// argv: <lockDir> <name> <staleMs> <holdMs | throw>
import { withLock } from "../../adapters/lock.ts";

const [dir, name, staleMs, hold] = process.argv.slice(2) as [string, string, string, string];
try {
  await withLock(name, async () => {
    console.log(`entered ${Date.now()}`);
    if (hold === "throw") throw new Error("work failed");
    await new Promise((resolve) => setTimeout(resolve, Number(hold)));
    console.log(`left ${Date.now()}`);
  }, { dir, staleMs: Number(staleMs), timeoutMs: 60_000 });
} catch (error) {
  console.log(`threw ${(error as Error).message}`);
}
