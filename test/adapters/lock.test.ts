// withLock(): mutual exclusion across 8 processes, stale-lock recovery (dead PID, age), timeout, release on throw;
// the lease (a live holder renews its lock, a frozen or killed one loses it) and the default folder.
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { lockFileName, withLock } from "../../adapters/lock.ts";
import { BUN, runBun } from "../support/bun_child.ts";
import { rejection } from "../support/reject.ts";
import { runScript } from "../support/run_script.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-auth-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A PID no process has right now. */
function deadPid(): number {
  for (let pid = 4_000_000; pid > 100_000; pid -= 7_919) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as { code?: string }).code === "ESRCH") return pid;
    }
  }
  throw new Error("no free PID found");
}

const lockPath = (name: string) => join(dir, lockFileName(name));

describe("withLock()", () => {
  it("lets 8 processes increment a counter 50 times each without losing one (400)", async () => {
    const counter = join(dir, "counter.txt");
    await writeFile(counter, "0");
    const results = await Promise.all(
      Array.from({ length: 8 }, () => runBun("./lock_counter.ts", [dir, counter, "50"])),
    );
    for (const result of results) expect(result).toMatchObject({ code: 0, stdout: "done\n" });
    expect(await readFile(counter, "utf8")).toBe("400");
    expect(await readdir(dir)).toEqual(["counter.txt"]);
  });

  it("serializes callers within one process too", async () => {
    let inside = 0;
    let most = 0;
    let total = 0;
    await Promise.all(Array.from({ length: 20 }, () =>
      withLock("same", async () => {
        inside++;
        most = Math.max(most, inside);
        const seen = total;
        await new Promise((resolve) => setTimeout(resolve, 1));
        total = seen + 1;
        inside--;
      }, { dir })));
    expect(total).toBe(20);
    expect(most).toBe(1);
  });

  it("writes its PID, host and time into the lock file and removes it afterwards", async () => {
    const seen = await withLock("info", async () => JSON.parse(await readFile(lockPath("info"), "utf8")), { dir });
    expect(seen).toMatchObject({ pid: process.pid, host: hostname() });
    expect(Math.abs(Date.now() - seen.time)).toBeLessThan(5_000);
    expect(await readdir(dir)).toEqual([]);
  });

  it("recovers a lock left by a process that no longer exists", async () => {
    await writeFile(lockPath("refresh"), JSON.stringify({ pid: deadPid(), host: hostname(), time: Date.now(), token: "x" }));
    const started = Date.now();
    expect(await withLock("refresh", () => "got it", { dir, timeoutMs: 5_000 })).toBe("got it");
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await readdir(dir)).toEqual([]);
  });

  it("takes over a lock not renewed for staleMs even when its owner still runs", async () => {
    const old = { pid: 1, host: hostname(), time: Date.now() - 10_000, token: "x" }; // PID 1 is always alive
    await writeFile(lockPath("old"), JSON.stringify(old));
    // The lease is the file's modification time, which a live holder renews: this one was last renewed 10 s ago.
    const past = new Date(old.time);
    await utimes(lockPath("old"), past, past);
    expect(await withLock("old", () => 42, { dir, staleMs: 5_000, timeoutMs: 2_000 })).toBe(42);
  });

  it("waits for a live lock and gives up with a timeout error naming its holder", async () => {
    await writeFile(lockPath("busy"), JSON.stringify({ pid: 1, host: hostname(), time: Date.now(), token: "x" }));
    let ran = false;
    const started = Date.now();
    const error = await rejection(withLock("busy", () => void (ran = true), { dir, timeoutMs: 300 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(ran).toBe(false);
    expect(error.code).toBe("timeout");
    expect(error.message).toBe('Timed out after 300 ms waiting for the lock "busy" held by process 1');
    expect(error.hint).toContain(lockPath("busy"));
    expect(await readdir(dir)).toEqual([lockFileName("busy")]); // someone else's lock is left alone
  });

  it("does not break a lock file still being written, unless it is old", async () => {
    await writeFile(lockPath("fresh"), "");
    expect((await rejection(withLock("fresh", () => 1, { dir, timeoutMs: 200, staleMs: 5_000 }))).code).toBe("timeout");
    const past = new Date(Date.now() - 60_000);
    await utimes(lockPath("fresh"), past, past);
    expect(await withLock("fresh", () => 2, { dir, timeoutMs: 2_000, staleMs: 5_000 })).toBe(2);
  });

  it("releases the lock when the work throws", async () => {
    await expect(withLock("boom", () => Promise.reject(new Error("boom")), { dir })).rejects.toThrow("boom");
    expect(await readdir(dir)).toEqual([]);
    expect(await withLock("boom", () => "again", { dir, timeoutMs: 200 })).toBe("again");
  });

  it("creates a missing lock folder, private", async () => {
    const nested = join(dir, "a", "b");
    expect(await withLock("nested", () => readdir(nested), { dir: nested })).toEqual([lockFileName("nested")]);
    expect((await stat(nested)).mode & 0o777).toBe(0o700);
  });

  it("encodes any name into a safe file name", () => {
    expect(lockFileName("my-cli:refresh/default")).toBe("my-cli%3Arefresh%2Fdefault.lock");
    expect(lockFileName("..")).toBe("%2E..lock");
    expect(lockFileName("Zoë")).toBe("Zo%C3%AB.lock");
  });

  it("defaults to a private folder under $XDG_RUNTIME_DIR", async () => {
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = dir;
    try {
      const inside = await withLock("default-dir", () => readdir(join(dir, "cli-auth")));
      expect(inside).toEqual([lockFileName("default-dir")]);
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOLDER = fileURLToPath(new URL("../support/lock_holder.ts", import.meta.url));

interface Holder {
  child: ChildProcess;
  /** Epoch ms at which the holder got the lock. */
  entered: Promise<number>;
  /** Epoch ms at which its work ended (undefined if it never did). */
  left: Promise<number | undefined>;
  /** Its exit code (null when killed) and the epoch ms of its exit. */
  exited: Promise<{ code: number | null; at: number; stdout: string }>;
}

/** A Bun process holding the lock `name` (in `dir`) for `hold` ms of work; see test/support/lock_holder.ts. */
function startHolder(name: string, staleMs: number, hold: string): Holder {
  const child = spawn(BUN, [HOLDER, dir, name, String(staleMs), hold], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
  const exited = new Promise<{ code: number | null; at: number; stdout: string }>((resolve) =>
    child.once("close", (code) => {
      resolve({ code, at: Date.now(), stdout });
      for (const wake of waiters.splice(0)) wake();
    })
  );
  let done = false;
  void exited.then(() => (done = true));
  const line = async (word: string): Promise<number | undefined> => {
    for (;;) {
      const match = new RegExp(`^${word} (\\d+)$`, "m").exec(stdout);
      if (match) return Number(match[1]);
      if (done) return undefined;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return {
    child,
    entered: line("entered").then((at) => {
      if (at === undefined) throw new Error(`the holder never got the lock:\n${stdout}\n${stderr}`);
      return at;
    }),
    left: line("left"),
    exited,
  };
}

describe("withLock() lease: a live holder renews its lock; only a lock not renewed for staleMs is stale", () => {
  it("keeps the lock of a holder whose work takes 3 × staleMs: the waiter enters only after it left", async () => {
    const staleMs = 600;
    const holder = startHolder("lease", staleMs, String(3 * staleMs));
    await holder.entered;
    const enteredAt = await withLock("lease", () => Date.now(), { dir, staleMs, timeoutMs: 20_000 });
    const leftAt = await holder.left;
    expect(leftAt, "the holder's work ended").toBeDefined();
    expect(enteredAt, "the waiter entered while the holder still worked").toBeGreaterThanOrEqual(leftAt!);
    expect((await holder.exited).code).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it("lets the waiter in soon after a holder is killed with SIGKILL, within staleMs", async () => {
    const staleMs = 1_500;
    const holder = startHolder("killed", staleMs, "60000");
    await holder.entered;
    const waiting = withLock("killed", () => Date.now(), { dir, staleMs, timeoutMs: 20_000 });
    await sleep(300);
    const killedAt = Date.now();
    holder.child.kill("SIGKILL");
    const enteredAt = await waiting;
    expect(enteredAt).toBeGreaterThanOrEqual(killedAt);
    expect(enteredAt - killedAt).toBeLessThan(staleMs + 500);
    expect(await readdir(dir)).toEqual([]);
  });

  it("takes the lock of a frozen holder (SIGSTOP) after staleMs; resumed, that holder leaves the new lock alone", async () => {
    const staleMs = 600;
    const holder = startHolder("frozen", staleMs, "300");
    await holder.entered;
    // process.kill, not child.kill: Deno's ChildProcess takes a stopped child for an exited one.
    process.kill(holder.child.pid!, "SIGSTOP");
    const stoppedAt = Date.now();
    const inside = await withLock("frozen", async () => {
      const enteredAt = Date.now();
      const mine = await readFile(lockPath("frozen"), "utf8");
      process.kill(holder.child.pid!, "SIGCONT");
      // The resumed holder finishes its work, "releases" and exits while this caller holds the lock.
      const exit = await holder.exited;
      return { enteredAt, mine, exit, after: await readFile(lockPath("frozen"), "utf8").catch(() => "(removed)") };
    }, { dir, staleMs, timeoutMs: 20_000 });
    // Its last renewal was at most staleMs / 3 before it froze.
    expect(inside.enteredAt - stoppedAt).toBeGreaterThanOrEqual(staleMs / 2);
    expect(inside.exit.code).toBe(0);
    expect(inside.exit.stdout).toMatch(/^left \d+$/m);
    expect(inside.after).toBe(inside.mine);
    expect(JSON.parse(inside.mine).pid).toBe(process.pid);
    expect(await readdir(dir)).toEqual([]);
  });

  it("renews the lock file's modification time while the work runs", async () => {
    const staleMs = 300;
    const times = await withLock("renew", async () => {
      const first = (await stat(lockPath("renew"))).mtimeMs;
      await sleep(staleMs * 1.5);
      return [first, (await stat(lockPath("renew"))).mtimeMs];
    }, { dir, staleMs });
    expect(times[1]).toBeGreaterThan(times[0]!);
  });

  it("stops renewing on every way out: work done, work thrown, lock never taken", async () => {
    const set = vi.spyOn(globalThis, "setInterval");
    const clear = vi.spyOn(globalThis, "clearInterval");
    try {
      expect(await withLock("timers", () => "ok", { dir, staleMs: 60_000 })).toBe("ok");
      await expect(withLock("timers", () => Promise.reject(new Error("boom")), { dir, staleMs: 60_000 })).rejects
        .toThrow("boom");
      await writeFile(lockPath("busy"), JSON.stringify({ pid: 1, host: hostname(), time: Date.now(), token: "x" }));
      expect((await rejection(withLock("busy", () => 1, { dir, timeoutMs: 100 }))).code).toBe("timeout");
      const timers = set.mock.results.map((result) => result.value);
      expect(timers).toHaveLength(2); // one lease per lock taken
      for (const timer of timers) expect(clear.mock.calls.map((call) => call[0])).toContain(timer);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it("refuses a staleMs or timeoutMs that is not a number of ms, before touching anything", async () => {
    let ran = false;
    for (const options of [{ staleMs: 0 }, { staleMs: -1 }, { staleMs: Number.NaN }, { timeoutMs: Number.POSITIVE_INFINITY }]) {
      const error = await rejection(withLock("bad", () => void (ran = true), { dir, ...options }));
      expect(error.code).toBe("invalid_options");
    }
    expect(ran).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it("does not keep a process alive once the work is done or has thrown", async () => {
    for (const hold of ["50", "throw"]) {
      const holder = startHolder(`exit-${hold}`, 60_000, hold);
      const entered = await holder.entered;
      const exit = await holder.exited;
      expect(exit.code).toBe(0);
      expect(exit.at - entered).toBeLessThan(2_000);
    }
  });
});

describe("withLock() default folder, without $XDG_RUNTIME_DIR", () => {
  const FIXTURE = fileURLToPath(new URL("../support/lock_default_dir.ts", import.meta.url));
  const uid = process.getuid!();

  it("ignores a folder another user made at the old path in the temporary folder, using the user's cache folder", async () => {
    // The old default was <tmpdir>/cli-auth-<uid>: the child gets a temporary folder of its own (TMPDIR), where
    // "another user" (uid 65534) made that folder first, world-writable, and left a lock in it.
    const tmp = join(dir, "tmp");
    const squatted = join(tmp, `cli-auth-${uid}`);
    await mkdir(squatted, { recursive: true });
    await writeFile(join(squatted, lockFileName("squat")), JSON.stringify({ pid: 1, host: hostname(), time: Date.now(), token: "x" }));
    await chmod(squatted, 0o777);
    await chown(squatted, 65534, 65534);
    const cache = join(dir, "cache");
    const result = await runScript(FIXTURE, {
      args: ["squat", join(cache, "cli-auth")],
      env: { TMPDIR: tmp, XDG_RUNTIME_DIR: undefined, XDG_CACHE_HOME: cache },
      timeoutMs: 30_000,
    });
    expect(result.stdout.trim(), result.stderr).toBe(`inside ${JSON.stringify([lockFileName("squat")])}`);
    const own = await stat(join(cache, "cli-auth"));
    expect(own.uid).toBe(uid);
    expect(own.mode & 0o777).toBe(0o700);
    expect(await readdir(join(cache, "cli-auth"))).toEqual([]);
    // The squatted folder is left exactly as it was.
    const left = await stat(squatted);
    expect([left.uid, left.mode & 0o777]).toEqual([65534, 0o777]);
    expect(await readdir(squatted)).toEqual([lockFileName("squat")]);
  });

  it("ignores $XDG_RUNTIME_DIR when another user owns it", async () => {
    const runtime = join(dir, "run");
    await mkdir(runtime, { mode: 0o700 });
    await chown(runtime, 65534, 65534);
    const cache = join(dir, "cache");
    const result = await runScript(FIXTURE, {
      args: ["foreign-runtime", join(cache, "cli-auth")],
      env: { TMPDIR: join(dir, "tmp"), XDG_RUNTIME_DIR: runtime, XDG_CACHE_HOME: cache },
      timeoutMs: 30_000,
    });
    expect(result.stdout.trim(), result.stderr).toBe(`inside ${JSON.stringify([lockFileName("foreign-runtime")])}`);
    expect(await readdir(runtime)).toEqual([]);
  });
});
