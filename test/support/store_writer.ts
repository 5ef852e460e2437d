// Run by `bun` from the file store tests: writes one profile many times through fileStore, as a separate process.
// argv: <dir> <profile> <count>. Values grow and shrink so that a torn write would show up as invalid JSON.
import { fileStore } from "../../adapters/storage/file.ts";

const [dir, profile, count] = process.argv.slice(2) as [string, string, string];
const store = fileStore({ service: "cli-auth-test", dir, logger: { warn: (m) => console.error(m) } });
for (let i = 1; i <= Number(count); i++) {
  await store.set(profile, JSON.stringify({ profile, i, padding: "p".repeat((i * 997) % 5_000) }));
}
console.log("done");
