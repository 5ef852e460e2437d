// withLock(): mutual exclusion across 8 processes, stale-lock recovery (dead PID, age), timeout, release on throw.
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockFileName, withLock } from "../../adapters/lock.ts";
import { runBun } from "../support/bun_child.ts";
import { rejection } from "../support/reject.ts";

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

  it("takes over a lock older than staleMs even when its owner still runs", async () => {
    const old = { pid: 1, host: hostname(), time: Date.now() - 10_000, token: "x" }; // PID 1 is always alive
    await writeFile(lockPath("old"), JSON.stringify(old));
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
