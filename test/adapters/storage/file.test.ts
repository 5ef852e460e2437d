// fileStore(): permissions, format, corrupt files, loose permissions, and atomic writes from 8 processes at once.
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileStore } from "../../../adapters/storage/file.ts";
import { runBun } from "../../support/bun_child.ts";
import { rejection } from "../../support/reject.ts";

let root: string;
let warnings: string[];
const logger = { warn: (message: string) => void warnings.push(message) };

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "cli-auth-file-"));
  warnings = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;
const session = (token: string) => JSON.stringify({ accessToken: token, tokenType: "Bearer", expiresAt: 1_800_000_000_000 });

describe("fileStore()", () => {
  it("creates the folder 0700 and the file 0600, and round-trips set, get and delete", async () => {
    const dir = join(root, "nested", "my-cli");
    const store = fileStore({ service: "my-cli", dir, logger });
    expect(store.kind).toBe("file");
    expect(await store.get("default")).toBeNull();
    await store.set("default", session("a"));
    expect(await mode(join(root, "nested"))).toBe(0o700);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(join(dir, "credentials.json"))).toBe(0o600);
    expect(await store.get("default")).toBe(session("a"));
    await store.set("default", session("b"));
    expect(await store.get("default")).toBe(session("b"));
    expect(await mode(join(dir, "credentials.json"))).toBe(0o600);
    await store.delete("default");
    expect(await store.get("default")).toBeNull();
    expect(await readdir(dir)).toEqual([]); // the last profile gone: no file, no temp file, no lock left
    await store.delete("default");
    expect(warnings).toEqual([]);
  });

  it("keeps profiles side by side in one object, sessions as objects and other values as strings", async () => {
    const store = fileStore({ service: "my-cli", dir: root, logger });
    await store.set("work", session("w"));
    await store.set("home", "not json");
    await store.set("spaced", '{"a": 1}');
    await store.set("__proto__", "[1,2]");
    const file = JSON.parse(await readFile(join(root, "credentials.json"), "utf8"));
    expect(file).toEqual({
      version: 1,
      profiles: {
        work: { accessToken: "w", tokenType: "Bearer", expiresAt: 1_800_000_000_000 },
        home: "not json",
        spaced: '{"a": 1}',
        ["__proto__"]: "[1,2]",
      },
    });
    expect(await store.get("work")).toBe(session("w"));
    expect(await store.get("spaced")).toBe('{"a": 1}');
    expect(await store.get("__proto__")).toBe("[1,2]");
    expect(await store.get("toString")).toBeNull();
    await store.delete("work");
    expect(await store.get("home")).toBe("not json");
  });

  it("reports a corrupt file as storage_corrupt and leaves it exactly as it was", async () => {
    const path = join(root, "credentials.json");
    const broken = '{"version":1,"profiles":{"work":"abc"'; // cut short
    await writeFile(path, broken, { mode: 0o600 });
    const store = fileStore({ service: "my-cli", dir: root, logger });
    for (const attempt of [() => store.get("work"), () => store.set("work", "new"), () => store.delete("work")]) {
      const error = await rejection(attempt());
      expect(error.code).toBe("storage_corrupt");
      expect(error.message).toMatch(/^Cannot (read|store|delete) credentials for profile "work": file is not valid JSON$/);
      expect(error.hint).toBe(`Fix or delete ${path}, then log in again`);
    }
    expect(await readFile(path, "utf8")).toBe(broken);
    expect((await readdir(root)).sort()).toEqual(["credentials.json"]);

    await writeFile(path, '["not", "an", "object"]');
    const shape = await rejection(store.get("work"));
    expect(shape.message).toBe('Cannot read credentials for profile "work": file has no "profiles" object');
    await writeFile(path, '{"version":2,"profiles":{}}');
    expect((await rejection(store.set("work", "x"))).message).toBe(
      'Cannot store credentials for profile "work": file has format version 2, expected 1',
    );
    expect(await readFile(path, "utf8")).toBe('{"version":2,"profiles":{}}');
  });

  it("sets a file readable by others back to 0600 and warns once", async () => {
    const path = join(root, "credentials.json");
    const store = fileStore({ service: "my-cli", dir: root, logger });
    await store.set("default", session("a"));
    await chmod(path, 0o644);
    expect(await store.get("default")).toBe(session("a"));
    expect(await mode(path)).toBe(0o600);
    await chmod(path, 0o640);
    expect(await store.get("default")).toBe(session("a"));
    expect(await mode(path)).toBe(0o600);
    expect(warnings).toEqual([`The credentials file ${path} was readable by other users (mode 0644); it is now 0600`]);
  });

  it("finds its file under $XDG_CONFIG_HOME, ~/.config, or %APPDATA% on Windows", async () => {
    const saved = { xdg: process.env.XDG_CONFIG_HOME, appData: process.env.APPDATA };
    try {
      process.env.XDG_CONFIG_HOME = root;
      expect(await fileStore({ service: "my-cli", platform: "linux" }).location()).toBe(
        join(root, "my-cli", "credentials.json"),
      );
      process.env.XDG_CONFIG_HOME = "relative/ignored";
      expect(await fileStore({ service: "my-cli", platform: "linux" }).location()).toBe(
        join(homedir(), ".config", "my-cli", "credentials.json"),
      );
      process.env.APPDATA = "C:\\Users\\me\\AppData\\Roaming";
      expect(await fileStore({ service: "my-cli", platform: "win32" }).location()).toBe(
        "C:\\Users\\me\\AppData\\Roaming\\my-cli\\credentials.json",
      );
    } finally {
      if (saved.xdg === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved.xdg;
      if (saved.appData === undefined) delete process.env.APPDATA;
      else process.env.APPDATA = saved.appData;
    }
  });

  it("rejects bad service and profile names", async () => {
    expect(() => fileStore({ service: "../evil" })).toThrow(/Invalid `service`/);
    const store = fileStore({ service: "my-cli", dir: root, logger });
    expect((await rejection(store.set("", "v"))).code).toBe("invalid_options");
    expect((await rejection(store.get("a\u0000b"))).code).toBe("invalid_options");
  });

  it("stays whole and loses no profile under 8 writer processes (each file seen parses)", async () => {
    const path = join(root, "credentials.json");
    const writers = Array.from({ length: 8 }, (_, i) => runBun("./store_writer.ts", [root, `p${i}`, "25"]));
    let running = true;
    const all = Promise.all(writers).finally(() => {
      running = false;
    });
    let snapshots = 0;
    const torn: string[] = [];
    while (running) {
      let text: string | undefined;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as { code?: string }).code !== "ENOENT") throw error;
      }
      if (text !== undefined) {
        snapshots++;
        try {
          if (JSON.parse(text).version !== 1) torn.push(text);
        } catch {
          torn.push(text); // checked after the writers are done, so none outlives the test
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    for (const result of await all) expect(result).toMatchObject({ code: 0, stdout: "done\n" });
    expect(torn).toEqual([]);
    expect(snapshots).toBeGreaterThan(5);
    const final = JSON.parse(await readFile(path, "utf8"));
    expect(Object.keys(final.profiles).sort()).toEqual(["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"]);
    for (const value of Object.values(final.profiles)) expect(value).toMatchObject({ i: 25 });
    expect(await readdir(root)).toEqual(["credentials.json"]); // no temp files or lock left behind
    expect(await mode(path)).toBe(0o600);
  });
});
