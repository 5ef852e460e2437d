// The server entry as it was before jose (the hand-written JWS, JWKS and thumbprint code), for the "before" lines of
// the server benchmarks. Not kept in the source tree: extracted at bench time from git history into
// bench/.tmp/before/<commit>/ (server/ and src/ of the parent of the commit that deleted server/jws.ts, or of
// BENCH_BEFORE_COMMIT), then imported (on Node, bundled first by bench/_node.mjs). No git history: no "before" lines.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import type { createVerifier } from "../server/mod.ts";
import { ROOT, runtimeKey } from "./_support.ts";

/** What the benchmarks use of the old entry. */
export interface ServerBefore {
  createVerifier: typeof createVerifier;
}

function git(args: string[], input?: Uint8Array): { ok: boolean; stdout: Uint8Array; text: string } {
  const result = spawnSync("git", args, { cwd: ROOT, input, maxBuffer: 64 * 1024 * 1024 });
  const stdout = result.stdout ?? new Uint8Array();
  return { ok: result.status === 0, stdout, text: new TextDecoder().decode(stdout).trim() };
}

/** The old server entry and the commit it came from, or why there is none. */
export async function loadServerBefore(): Promise<{ server?: ServerBefore; commit?: string; note: string }> {
  let commit = process.env.BENCH_BEFORE_COMMIT;
  if (!commit) {
    const deleted = git(["rev-list", "-1", "HEAD", "--", "server/jws.ts"]);
    if (!deleted.ok || !deleted.text) return { note: "no git history with server/jws.ts: no before lines" };
    commit = `${deleted.text}^`;
  }
  const resolved = git(["rev-parse", "--short=10", commit]);
  if (!resolved.ok) return { note: `cannot resolve ${commit}: no before lines` };
  const dir = join(ROOT, "bench/.tmp/before", resolved.text);
  const entry = join(dir, "server/mod.ts");
  if (!existsSync(entry)) {
    mkdirSync(dir, { recursive: true });
    const archive = git(["archive", "--format=tar", resolved.text, "server", "src"]);
    const untar = spawnSync("tar", ["-x", "-C", dir], { input: archive.stdout });
    if (!archive.ok || untar.status !== 0 || !existsSync(entry)) {
      return { note: `could not extract server/ and src/ of ${resolved.text}: no before lines` };
    }
  }
  const file = runtimeKey() === "node" ? await (await import("./_node.mjs")).bundleForNode(entry) : entry;
  const server = (await import(pathToFileURL(file).href)) as ServerBefore;
  return { server, commit: resolved.text, note: `before = server/ at ${resolved.text} (hand-written JWS/JWKS), from git` };
}
