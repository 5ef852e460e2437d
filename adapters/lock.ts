/**
 * A lock shared by processes on one machine: a lock file created with `O_EXCL`, holding the owner's PID, host and
 * start time. Used to let one process refresh a session while others wait, and to serialize writes of the
 * credentials file. Node built-ins are loaded on first use.
 *
 * Recovery: a lock is stale when its owner's process is gone (same host, PID no longer exists) or it is older than
 * `staleMs`. A waiter that finds a stale lock removes it under a short-lived second lock (`<lock>.break`) after
 * checking that the file is still the same one, so two waiters never both remove a lock one of them just took.
 *
 * @module
 */
import { CliAuthError } from "../src/errors.ts";

/**
 * Options of {@link withLock}.
 *
 * @example Usage
 * ```ts
 * import type { LockOptions } from "@x/cli-auth/adapters";
 * const options: LockOptions = { dir: "/home/me/.config/my-cli", staleMs: 60_000, timeoutMs: 70_000 };
 * ```
 */
export interface LockOptions {
  /**
   * The folder of the lock file, created (`0700`) if missing. Default: `$XDG_RUNTIME_DIR/cli-auth` when set, else
   * `cli-auth-<uid>` in the temporary folder (refused when another user owns it).
   */
  dir?: string;
  /** A lock older than this is taken over even if its owner still runs (default 60 000 ms). */
  staleMs?: number;
  /** Give up waiting after this long with a `timeout` error (default 70 000 ms). */
  timeoutMs?: number;
}

/**
 * The default of {@link LockOptions.staleMs}: longer than a slow token refresh, so a live holder keeps its lock.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_LOCK_STALE_MS, withLock } from "@x/cli-auth/adapters";
 * await withLock("my-cli:refresh", () => {}, { staleMs: DEFAULT_LOCK_STALE_MS * 2 });
 * ```
 */
export const DEFAULT_LOCK_STALE_MS = 60_000;

/**
 * The default of {@link LockOptions.timeoutMs}: long enough to see a stale lock expire and take it over.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_TIMEOUT_MS } from "@x/cli-auth/adapters";
 * console.assert(DEFAULT_LOCK_TIMEOUT_MS > DEFAULT_LOCK_STALE_MS);
 * ```
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 70_000;

/** How long the remover of a stale lock may hold `<lock>.break` before others take it over. */
const BREAK_STALE_MS = 5_000;

type Fs = typeof import("node:fs/promises");

interface Owner {
  pid: number;
  host: string;
  time: number;
  token: string;
}

interface Platform {
  fs: Fs;
  join: (...parts: string[]) => string;
  host: string;
  pid: number;
  uid: number | undefined;
  tmpdir: string;
  windows: boolean;
}

let platform: Promise<Platform> | undefined;
function loadPlatform(): Promise<Platform> {
  return platform ??= (async () => {
    const [fs, path, os] = await Promise.all([import("node:fs/promises"), import("node:path"), import("node:os")]);
    const g = globalThis as { process?: { pid?: number; getuid?: () => number; platform?: string } };
    return {
      fs,
      join: path.join,
      host: os.hostname(),
      pid: g.process?.pid ?? 0,
      uid: g.process?.getuid?.(),
      tmpdir: os.tmpdir(),
      windows: (g.process?.platform ?? "") === "win32",
    };
  })();
}

/**
 * The lock's file name: the name with anything but `A-Z a-z 0-9 . _ -` percent-encoded (UTF-8), then `.lock`.
 *
 * @param name the lock's name
 * @returns a file name that is safe on every platform and unique per name
 *
 * @example Usage
 * ```ts
 * import { lockFileName } from "@x/cli-auth/adapters";
 * console.assert(lockFileName("my-cli:refresh/default") === "my-cli%3Arefresh%2Fdefault.lock");
 * ```
 */
export function lockFileName(name: string): string {
  const safe = Array.from(new TextEncoder().encode(name), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9._-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
  return `${safe === "." || safe === ".." ? `%2E${safe.slice(1)}` : safe}.lock`;
}

function alive(pid: number): boolean {
  const g = globalThis as { process?: { kill?: (pid: number, signal: number) => void } };
  if (!Number.isInteger(pid) || pid <= 0 || !g.process?.kill) return true;
  try {
    g.process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as { code?: string }).code !== "ESRCH";
  }
}

function parseOwner(text: string): Owner | undefined {
  try {
    const value = JSON.parse(text) as Partial<Owner>;
    if (typeof value.pid === "number" && typeof value.time === "number" && typeof value.host === "string") {
      return { pid: value.pid, time: value.time, host: value.host, token: String(value.token ?? "") };
    }
  } catch {
    // A lock file being written (or written by something else): judged by its age.
  }
  return undefined;
}

function isStale(text: string, mtimeMs: number, p: Platform, staleMs: number): boolean {
  const now = Date.now();
  const owner = parseOwner(text);
  if (!owner) return now - mtimeMs > staleMs;
  if (now - owner.time > staleMs) return true;
  return owner.host === p.host && owner.pid !== p.pid && !alive(owner.pid);
}

async function readLock(fs: Fs, path: string): Promise<{ text: string; mtimeMs: number } | undefined> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(path, "utf8"), fs.stat(path)]);
    return { text, mtimeMs: stat.mtimeMs };
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

async function createExclusive(fs: Fs, path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await fs.open(path, "wx", 0o600);
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  return true;
}

/** Removes the lock at `path` if it still holds `observed`, guarded by `<path>.break`; whether it did. */
async function breakStale(p: Platform, path: string, observed: string): Promise<boolean> {
  const guard = `${path}.break`;
  const token = crypto.randomUUID();
  if (!(await createExclusive(p.fs, guard, token))) {
    const other = await readLock(p.fs, guard);
    // A remover that died holding the guard: clear it; the next round takes it.
    if (other && Date.now() - other.mtimeMs > BREAK_STALE_MS) await p.fs.rm(guard, { force: true });
    return false;
  }
  try {
    const current = await readLock(p.fs, path);
    if (current && current.text === observed) {
      await p.fs.rm(path, { force: true });
      return true;
    }
    return false;
  } finally {
    const mine = await readLock(p.fs, guard);
    if (mine?.text === token) await p.fs.rm(guard, { force: true });
  }
}

async function defaultDir(p: Platform): Promise<string> {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  const runtime = g.process?.env?.XDG_RUNTIME_DIR;
  const dir = runtime && runtime.startsWith("/")
    ? p.join(runtime, "cli-auth")
    : p.join(p.tmpdir, p.uid === undefined ? "cli-auth" : `cli-auth-${p.uid}`);
  await p.fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (!p.windows && p.uid !== undefined) {
    const stat = await p.fs.stat(dir);
    if (stat.uid !== p.uid) {
      throw new CliAuthError("storage_unavailable", `Cannot use the lock folder ${dir}: it belongs to another user`, {
        hint: "Pass `dir` with a folder of your own",
      });
    }
    if ((stat.mode & 0o077) !== 0) await p.fs.chmod(dir, 0o700);
  }
  return dir;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function fsError(error: unknown, path: string): CliAuthError {
  const code = (error as { code?: unknown })?.code;
  return new CliAuthError(
    "storage_unavailable",
    `Cannot use the lock file ${path}${typeof code === "string" ? ` (${code})` : ""}`,
    { hint: "Check that the folder exists and is writable", cause: error },
  );
}

/**
 * Runs `fn` while holding the lock `name`, shared by every process of this user on this machine, and releases it
 * afterwards whatever happens. Not re-entrant: a nested `withLock` on the same name waits for itself until timeout.
 *
 * @typeParam T what `fn` returns
 * @param name names the lock (any string; it is encoded into a file name)
 * @param fn the work to do while holding it
 * @param options folder, staleness and timeout
 * @returns what `fn` returned
 * @throws {CliAuthError} `timeout` when the lock stays taken for `timeoutMs`; `storage_unavailable` when the lock
 * file cannot be created; anything `fn` throws, after releasing the lock
 *
 * @example Usage
 * ```ts
 * import { withLock } from "@x/cli-auth/adapters";
 * const token = await withLock("my-cli:refresh:default", async () => {
 *   // read the session, refresh it if nobody did meanwhile, store it
 *   return "fresh-access-token";
 * });
 * ```
 */
export async function withLock<T>(name: string, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
  const p = await loadPlatform();
  const staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  let dir: string;
  try {
    if (options.dir === undefined) dir = await defaultDir(p);
    else {
      dir = options.dir;
      await p.fs.mkdir(dir, { recursive: true, mode: 0o700 });
    }
  } catch (error) {
    if (error instanceof CliAuthError) throw error;
    throw fsError(error, p.join(options.dir ?? p.tmpdir, lockFileName(name)));
  }
  const path = p.join(dir, lockFileName(name));
  const token = crypto.randomUUID();
  const deadline = Date.now() + timeoutMs;
  let lastOwner: string | undefined;

  for (let attempt = 0;; attempt++) {
    try {
      // The time is the moment the lock is taken: others judge its age from it.
      const content = JSON.stringify({ pid: p.pid, host: p.host, time: Date.now(), token });
      if (await createExclusive(p.fs, path, content)) break;
      const current = await readLock(p.fs, path);
      if (current === undefined) continue; // released meanwhile: try again at once
      lastOwner = current.text;
      if (isStale(current.text, current.mtimeMs, p, staleMs) && (await breakStale(p, path, current.text))) continue;
    } catch (error) {
      throw fsError(error, path);
    }
    if (Date.now() >= deadline) {
      const owner = lastOwner === undefined ? undefined : parseOwner(lastOwner);
      throw new CliAuthError(
        "timeout",
        `Timed out after ${timeoutMs} ms waiting for the lock ${JSON.stringify(name)}${
          owner ? ` held by process ${owner.pid}` : ""
        }`,
        { hint: `Another process is using it; try again, or delete ${path} if no such process runs` },
      );
    }
    // Short, jittered waits that grow to ~50 ms: holders keep locks for milliseconds to seconds.
    const base = Math.min(50, 4 * 1.25 ** attempt);
    await sleep(base / 2 + Math.random() * base);
  }

  try {
    return await fn();
  } finally {
    try {
      const current = await readLock(p.fs, path);
      if (current && parseOwner(current.text)?.token === token) await p.fs.rm(path, { force: true });
    } catch {
      // Releasing is best effort: a lock we cannot remove becomes stale when this process exits.
    }
  }
}
