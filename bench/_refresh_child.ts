// One of the processes of bench/refresh_load.ts: builds a CliAuth with `storage: "file"` on the default platform (its
// file store and lock, in the folders the parent's XDG_CONFIG_HOME and XDG_RUNTIME_DIR name), says "ready", waits for
// a line on stdin, calls getAccessToken() once and prints what it got as JSON. Not a benchmark on its own.
// argv[2]: JSON { issuer, service }
import process from "node:process";
import { CliAuth, isCliAuthError } from "../mod.ts";

const config = JSON.parse(process.argv[2]!) as { issuer: string; service: string };
const auth = new CliAuth({
  issuer: config.issuer,
  clientId: "cli",
  service: config.service,
  allowInsecureRequests: true,
  storage: "file",
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
