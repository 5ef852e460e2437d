/**
 * A lock shared by processes on one machine: a lock file created with `O_EXCL`, holding the owner's PID, host, start
 * time and a random token. Used to let one process refresh a session while others wait, and to serialize writes of
 * the credentials file. Node built-ins are loaded on first use.
 *
 * Lease: while its work runs, the holder renews the lock every `staleMs / 3` by setting the file's modification time
 * (only if the file at the path is still its own: same file, same token). A lock is stale when it has not been renewed
 * for `staleMs`, or when its owner's process is gone (same host, PID no longer exists); a live holder never loses its
 * lock however long its work takes, and a frozen or killed one loses it after `staleMs` at most.
 *
 * Recovery and release: a waiter that finds a stale lock removes it under a short-lived second lock
 * (`<lock>.break`), after checking that the file is still the same one and still stale; the holder releases its lock
 * under the same guard, after checking that the file is still its own. So a holder that was frozen past `staleMs`
 * never removes the lock the next holder took, and two waiters never both remove a lock one of them just took.
 *
 * @module
 */
import type { LockOptions } from "../src/contracts.ts";
import { CliAuthError } from "../src/common/errors.ts";
import { currentOs, type OsName } from "./os.ts";
import { loadRuntime } from "./runtimes.ts";

export type { LockOptions };

/**
 * The default of {@link LockOptions.staleMs}: how long a lock may go without renewal before others take it over (a
 * live holder renews it every `staleMs / 3`).
 *
 * @example Usage
 * ```ts
 * import { withLock } from "@x/cli-auth/adapters";
 * import { DEFAULT_LOCK_STALE_MS } from "./lock.ts";
 * await withLock("my-cli:refresh", () => {}, { staleMs: DEFAULT_LOCK_STALE_MS * 2 });
 * ```
 */
export const DEFAULT_LOCK_STALE_MS = 60_000;

/**
 * The default of {@link LockOptions.timeoutMs}: long enough to see a stale lock expire and take it over. When
 * `staleMs` is given and `timeoutMs` is not, the timeout is at least `staleMs` plus 10 s.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_LOCK_STALE_MS, DEFAULT_LOCK_TIMEOUT_MS } from "./lock.ts";
 * console.assert(DEFAULT_LOCK_TIMEOUT_MS > DEFAULT_LOCK_STALE_MS);
 * ```
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 70_000;

/** How long the remover of a stale lock may hold `<lock>.break` before others take it over. */
const BREAK_STALE_MS = 5_000;

/** How long a releasing holder waits for `<lock>.break` before releasing without it. */
const RELEASE_GUARD_WAIT_MS = BREAK_STALE_MS + 1_000;

type Fs = typeof import("node:fs/promises");

/** What tells one lock file from another at the same path: its inode (where the file system has them). */
interface FileId {
  dev: number;
  ino: number;
}

interface Owner {
  pid: number;
  host: string;
  time: number;
  token: string;
}

interface Host {
  fs: Fs;
  join: (...parts: string[]) => string;
  isAbsolute: (path: string) => boolean;
  host: string;
  pid: number;
  uid: number | undefined;
  homedir: () => string;
  os: OsName;
  /** Lets a timer not keep the process alive (the runtime's way). */
  unrefTimer: (timer: unknown) => void;
}

let host: Promise<Host> | undefined;
function loadHost(): Promise<Host> {
  return host ??= (async () => {
    const [fs, path, os, runtime] = await Promise.all([
      import("node:fs/promises"),
      import("node:path"),
      import("node:os"),
      loadRuntime(),
    ]);
    const g = globalThis as { process?: { pid?: number; getuid?: () => number } };
    return {
      fs,
      join: path.join,
      isAbsolute: path.isAbsolute,
      host: os.hostname(),
      pid: g.process?.pid ?? 0,
      uid: g.process?.getuid?.(),
      homedir: () => os.homedir(),
      os: currentOs(),
      unrefTimer: runtime.unrefTimer,
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
 * import { lockFileName } from "./lock.ts";
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

/**
 * Whether a lock has gone `staleMs` without renewal (its file's modification time, or the time written in it when
 * later), or belongs to a process of this host that no longer exists.
 */
function isStale(lock: LockFile, p: Host, staleMs: number): boolean {
  const owner = parseOwner(lock.text);
  const renewed = Math.max(lock.mtimeMs, owner?.time ?? 0);
  if (Date.now() - renewed > staleMs) return true;
  return owner !== undefined && owner.host === p.host && owner.pid !== p.pid && !alive(owner.pid);
}

interface LockFile extends FileId {
  text: string;
  mtimeMs: number;
}

async function readLock(fs: Fs, path: string): Promise<LockFile | undefined> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(path, "utf8"), fs.stat(path)]);
    return { text, mtimeMs: stat.mtimeMs, dev: stat.dev, ino: stat.ino };
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Whether `a` and `b` are the same file (on file systems without inode numbers: assumed, the token decides). */
function sameFile(a: FileId, b: FileId): boolean {
  return !a.ino || !b.ino || (a.ino === b.ino && a.dev === b.dev);
}

/** Creates `path` with `content` unless it exists; the new file's identity, or undefined when it existed. */
async function createExclusive(fs: Fs, path: string, content: string): Promise<FileId | undefined> {
  let handle;
  try {
    handle = await fs.open(path, "wx", 0o600);
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return undefined;
    throw error;
  }
  try {
    await handle.writeFile(content);
    const stat = await handle.stat();
    return { dev: stat.dev, ino: stat.ino };
  } finally {
    await handle.close();
  }
}

/**
 * Runs `check` holding `<path>.break`, the guard under which lock files are removed by anyone but their creator's
 * O_EXCL; whether it ran (false: someone else holds the guard). A guard left by a process that died is cleared.
 */
async function underGuard(p: Host, path: string, check: () => Promise<void>): Promise<boolean> {
  const guard = `${path}.break`;
  const token = crypto.randomUUID();
  if (!(await createExclusive(p.fs, guard, token))) {
    const other = await readLock(p.fs, guard);
    // A remover that died holding the guard: clear it; the next round takes it.
    if (other && Date.now() - other.mtimeMs > BREAK_STALE_MS) await p.fs.rm(guard, { force: true });
    return false;
  }
  try {
    await check();
    return true;
  } finally {
    const mine = await readLock(p.fs, guard);
    if (mine?.text === token) await p.fs.rm(guard, { force: true });
  }
}

/** Removes the lock at `path` if it is still the file `observed` and still stale; whether it did. */
async function breakStale(p: Host, path: string, observed: LockFile, staleMs: number): Promise<boolean> {
  let removed = false;
  await underGuard(p, path, async () => {
    const current = await readLock(p.fs, path);
    // Judged again: the holder may have renewed its lease since `observed` was read.
    if (current && sameFile(current, observed) && current.text === observed.text && isStale(current, p, staleMs)) {
      await p.fs.rm(path, { force: true });
      removed = true;
    }
  });
  return removed;
}

/** The lock at `path` if it is the one this holder created: the same file, with its token. */
async function ownLock(p: Host, path: string, held: FileId, token: string): Promise<LockFile | undefined> {
  const current = await readLock(p.fs, path);
  return current && sameFile(current, held) && parseOwner(current.text)?.token === token ? current : undefined;
}

/** Renews the lease of the holder's lock: sets its modification time to now, if the file is still its own. */
async function renew(p: Host, path: string, held: FileId, token: string): Promise<void> {
  if (!(await ownLock(p, path, held, token))) return;
  const now = new Date();
  await p.fs.utimes(path, now, now);
}

/** Removes the holder's lock if it is still its own, under the guard so nobody replaces it between check and removal. */
async function release(p: Host, path: string, held: FileId, token: string): Promise<void> {
  const removeOwn = async () => {
    if (await ownLock(p, path, held, token)) await p.fs.rm(path, { force: true });
  };
  const deadline = Date.now() + RELEASE_GUARD_WAIT_MS;
  while (!(await underGuard(p, path, removeOwn))) {
    // A waiter is judging this lock right now (it found it stale: this process was frozen), or a dead one left the
    // guard. If the guard stays taken, the lock is left to go stale rather than removed without it.
    if (Date.now() >= deadline) return;
    await sleep(5 + Math.random() * 10);
  }
}

/** Whether `dir` exists and belongs to this user (always true where there are no user IDs). */
async function ownedByUser(p: Host, dir: string): Promise<boolean> {
  try {
    const stat = await p.fs.stat(dir);
    return stat.isDirectory() && (p.uid === undefined || stat.uid === p.uid);
  } catch {
    return false;
  }
}

/**
 * The default lock folder: `cli-auth` in `$XDG_RUNTIME_DIR` when it is set and the user's own, else in the user's
 * cache folder (`$XDG_CACHE_HOME`, else `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows, `~/.cache`). Never
 * a predictable name in a folder others can write to, such as the temporary folder.
 */
async function defaultDir(p: Host): Promise<string> {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const absolute = (value: string | undefined) => (value && p.isAbsolute(value) ? value : undefined);
  const runtime = p.os === "windows" ? undefined : absolute(env.XDG_RUNTIME_DIR);
  if (runtime && (await ownedByUser(p, runtime))) return p.join(runtime, "cli-auth");
  const cache = p.os === "windows"
    ? absolute(env.LOCALAPPDATA) ?? p.join(p.homedir(), "AppData", "Local")
    : absolute(env.XDG_CACHE_HOME) ??
      (p.os === "darwin" ? p.join(p.homedir(), "Library", "Caches") : p.join(p.homedir(), ".cache"));
  return p.join(cache, "cli-auth");
}

/** Creates the default lock folder (`0700`) if missing, and checks that it is the user's own and private. */
async function preparePrivateDir(p: Host, dir: string): Promise<void> {
  await p.fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (p.os === "windows" || p.uid === undefined) return;
  const stat = await p.fs.stat(dir);
  if (stat.uid !== p.uid) {
    throw new CliAuthError("storage_unavailable", `Cannot use the lock folder ${dir}: it belongs to another user`, {
      hint: "Remove that folder, or pass a folder of your own as the lock's `dir`",
    });
  }
  if ((stat.mode & 0o077) !== 0) await p.fs.chmod(dir, 0o700);
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
 * afterwards whatever happens. While `fn` runs, the lock is renewed every `staleMs / 3`, so others wait for it however
 * long `fn` takes (up to their `timeoutMs`). Not re-entrant: a nested `withLock` on the same name waits for itself
 * until timeout.
 *
 * @typeParam T what `fn` returns
 * @param name names the lock (any string; it is encoded into a file name)
 * @param fn the work to do while holding it
 * @param options folder, staleness and timeout
 * @returns what `fn` returned
 * @throws {CliAuthError} `timeout` when the lock stays taken for `timeoutMs`; `storage_unavailable` when the lock
 * file cannot be created, or the default folder belongs to another user; `invalid_options` for a `staleMs` or
 * `timeoutMs` that is not a number of ms; anything `fn` throws, after releasing the lock
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
  const staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
  const timeoutMs = options.timeoutMs ??
    (options.staleMs === undefined ? DEFAULT_LOCK_TIMEOUT_MS : Math.max(DEFAULT_LOCK_TIMEOUT_MS, staleMs + 10_000));
  if (!(Number.isFinite(staleMs) && staleMs > 0) || !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
    throw new CliAuthError("invalid_options", "The lock's `staleMs` and `timeoutMs` must be numbers of ms", {
      hint: "Leave them out for the defaults (60 000 and 70 000 ms), or pass a positive `staleMs`",
    });
  }
  const p = await loadHost();
  let dir = options.dir;
  try {
    if (dir === undefined) {
      dir = await defaultDir(p);
      await preparePrivateDir(p, dir);
    } else {
      // A folder the caller chose (the credentials file's, an application's own) is used as it is.
      await p.fs.mkdir(dir, { recursive: true, mode: 0o700 });
    }
  } catch (error) {
    if (error instanceof CliAuthError) throw error;
    throw fsError(error, dir === undefined ? lockFileName(name) : p.join(dir, lockFileName(name)));
  }
  const path = p.join(dir, lockFileName(name));
  const token = crypto.randomUUID();
  const deadline = Date.now() + timeoutMs;
  let lastOwner: string | undefined;
  let held: FileId | undefined;

  for (let attempt = 0;; attempt++) {
    try {
      // The time is the moment the lock is taken; from then on the file's modification time is renewed.
      const content = JSON.stringify({ pid: p.pid, host: p.host, time: Date.now(), token });
      held = await createExclusive(p.fs, path, content);
      if (held) break;
      const current = await readLock(p.fs, path);
      if (current === undefined) continue; // released meanwhile: try again at once
      lastOwner = current.text;
      if (isStale(current, p, staleMs) && (await breakStale(p, path, current, staleMs))) continue;
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

  const file: FileId = held!;
  const lease = keepRenewing(() => renew(p, path, file, token), staleMs / 3, p.unrefTimer);
  try {
    return await fn();
  } finally {
    lease.stop();
    try {
      await release(p, path, file, token);
    } catch {
      // Releasing is best effort: a lock we cannot remove is no longer renewed, and goes stale after staleMs.
    }
  }
}

/**
 * Calls `renewal` every `everyMs` (one at a time) until stopped. The timer does not keep the process alive by itself
 * (where the runtime allows), and `stop()` clears it.
 */
function keepRenewing(renewal: () => Promise<void>, everyMs: number, unrefTimer: (timer: unknown) => void): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    renewal().catch(() => {}).finally(() => (running = false));
  }, Math.max(1, Math.floor(everyMs)));
  unrefTimer(timer);
  return { stop: () => clearInterval(timer) };
}
