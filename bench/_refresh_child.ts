// One of the processes of bench/refresh_load.ts: builds a CliAuth on the shared file store, says "ready", waits for
// a line on stdin, calls getAccessToken() once and prints what it got as JSON. Not a benchmark on its own.
// argv[2]: JSON { issuer, service, dir, lockDir, lock } (lock: false = the default platform, as shipped)
import process from "node:process";
import { createPlatform, fileStore, withLock } from "../adapters/mod.ts";
import { CliAuth, isCliAuthError, type Platform } from "../mod.ts";

const config = JSON.parse(process.argv[2]!) as { issuer: string; service: string; dir: string; lockDir: string; lock: boolean };
const real = createPlatform();
const platform: Platform = config.lock
  ? { ...real, withLock: (name, fn) => withLock(name, fn, { dir: config.lockDir }) }
  : real;
const auth = new CliAuth({
  issuer: config.issuer,
  clientId: "cli",
  service: config.service,
  allowInsecureRequests: true,
  storage: fileStore({ service: config.service, dir: config.dir }),
  platform,
});

process.stdout.write("ready\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
try {
  const t0 = performance.now();
  const token = await auth.getAccessToken();
  process.stdout.write(`${JSON.stringify({ ok: true, token, ms: performance.now() - t0 })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, code: isCliAuthError(error) ? error.code : String(error) })}\n`);
}
process.exit(0);
