// Storage faults through CliAuth, against the real stores: a real private Secret Service (gnome-keyring through
// secret-tool) that is missing, locked or hangs, and the credentials file on a folder that cannot be written, a
// full disk, corrupt JSON or loose permissions. Each has its documented outcome (a CliAuthError code, a fallback
// with one warning, or a repaired mode), and no session is lost where one could be kept.
//
// Tests run as root here, where permission bits do not stop writes. "A folder that cannot be written" is therefore
// a plain file standing where the config folder should be (ENOTDIR for every write and read under it), and "disk
// full" a CLI process started with a file-size limit (ulimit -f, SIGXFSZ ignored: writes fail with EFBIG, as they
// fail with ENOSPC on a full disk) — both work for root and for everyone else.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { autoStore, fileStore, keychainStore } from "../../adapters/mod.ts";
import { CliAuth, type CredentialStore } from "../../mod.ts";
import { secretTool, startKeyring, type TestKeyring } from "../support/keyring.ts";
import { loginWithoutBrowser, testOptions } from "../support/login.ts";
import { startProvider, type TestProvider } from "../support/provider.ts";
import { scriptCommand } from "../support/run_script.ts";
import { rejection } from "../support/reject.ts";

const GET_TOKEN = fileURLToPath(new URL("../fixtures/get_token.ts", import.meta.url));

let provider: TestProvider;
let keyring: TestKeyring;
let root: string;
let serial = 0;
let warnings: string[] = [];
const logger = { warn: (message: string) => void warnings.push(message) };

beforeAll(async () => {
  [provider, keyring] = await Promise.all([startProvider(), startKeyring()]);
  root = mkdtempSync(join(tmpdir(), "cli-auth-storage-faults-"));
});
afterAll(async () => {
  await Promise.all([provider?.close(), keyring?.stop()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

const service = () => `cli-auth-faults-${process.pid}-${++serial}`;
const auth = (storage: CredentialStore, extra: Parameters<typeof testOptions>[1] = {}) =>
  new CliAuth(testOptions(provider.issuer, { storage, logger, ...extra }));

/** A keychain store on a test keyring, never Bun.secrets (an `env` turns it off), so secret-tool always runs. */
function keyringStore(name: string, extra: { timeoutMs?: number; env?: Record<string, string>; on?: TestKeyring } = {}) {
  const env = { ...(extra.on ?? keyring).env, ...extra.env };
  return keychainStore({ service: name, platform: "linux", timeoutMs: extra.timeoutMs, env });
}

function dbus(on: TestKeyring, args: string[]): string {
  const result = spawnSync("dbus-send", ["--session", "--print-reply", "--dest=org.freedesktop.secrets", ...args], {
    env: { ...process.env, ...on.env },
    encoding: "utf8",
  });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

function lockKeyring(on: TestKeyring): void {
  dbus(on, [
    "/org/freedesktop/secrets",
    "org.freedesktop.Secret.Service.Lock",
    "array:objpath:/org/freedesktop/secrets/collection/login",
  ]);
}

/** The Secret Service's items for a service and account, unlocked and locked (attributes stay visible when locked). */
function searchItems(on: TestKeyring, name: string): { unlocked: string[]; locked: string[] } {
  const out = dbus(on, [
    "/org/freedesktop/secrets",
    "org.freedesktop.Secret.Service.SearchItems",
    `dict:string:string:service,${name},account,default`,
  ]);
  const [unlocked = "", locked = ""] = out.split("array [").slice(1);
  const paths = (text: string) => [...text.matchAll(/object path "([^"]+)"/g)].map((m) => m[1]!);
  return { unlocked: paths(unlocked), locked: paths(locked) };
}

/** When an item was last written (seconds), readable while locked. */
function modified(on: TestKeyring, item: string): string {
  const out = dbus(on, [item, "org.freedesktop.DBus.Properties.Get", "string:org.freedesktop.Secret.Item", "string:Modified"]);
  return /uint64 (\d+)/.exec(out)![1]!;
}

/** A folder with a `secret-tool` that records its pid and never finishes. */
function hangingSecretTool(): { path: string; pids: () => number[] } {
  const bin = mkdtempSync(join(root, "hang-"));
  const pidFile = join(bin, "pids");
  writeFileSync(join(bin, "secret-tool"), `#!/bin/sh\necho $$ >> '${pidFile}'\nexec sleep 60\n`);
  chmodSync(join(bin, "secret-tool"), 0o755);
  return {
    path: bin,
    pids: () => existsSync(pidFile) ? readFileSync(pidFile, "utf8").split("\n").filter(Boolean).map(Number) : [],
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("keychain faults", () => {
  it("secret-tool missing: storage_unavailable naming it, with an install hint; auto falls back to the file", async () => {
    const name = service();
    const emptyPath = mkdtempSync(join(root, "nothing-on-path-"));
    const keychain = keyringStore(name, { env: { PATH: emptyPath } });
    // The sign-in works, storing it cannot: the error says why and what to do.
    const error = await rejection(loginWithoutBrowser(auth(keychain)));
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toMatch(/secret-tool is not installed/);
    expect(error.hint).toMatch(/libsecret|storage: "file"/);
    expect((await rejection(auth(keychain).getAccessToken())).code).toBe("storage_unavailable");
    // "auto": one warning saying why and where the credentials went; the file works.
    warnings = [];
    const dir = join(root, name);
    const store = autoStore({ service: name, keychain, file: fileStore({ service: name, dir, logger }), logger });
    const { tokens } = await loginWithoutBrowser(auth(store));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/secret-tool is not installed.*credentials\.json/);
    expect(await auth(store).getAccessToken()).toBe(tokens.accessToken);
    expect(statSync(join(dir, "credentials.json")).mode & 0o777).toBe(0o600);
  });

  it("keyring locked: reads find nothing (not_logged_in), writes say it is locked; the stored session stays", async () => {
    // A keyring of its own: there is no way back from a lock without a GUI prompter.
    const own = await startKeyring();
    try {
      const name = service();
      const keychain = keyringStore(name, { on: own });
      await loginWithoutBrowser(auth(keychain));
      const [item] = searchItems(own, name).unlocked;
      expect(item).toBeDefined();
      const written = modified(own, item!);
      lockKeyring(own);
      expect(searchItems(own, name)).toEqual({ unlocked: [], locked: [item] });
      // A locked Secret Service hides its items from lookups: the session reads as absent (documented), not lost.
      expect((await rejection(auth(keychain).getAccessToken())).code).toBe("not_logged_in");
      const error = await rejection(loginWithoutBrowser(auth(keychain)));
      expect(error.code).toBe("storage_unavailable");
      expect(error.message).toMatch(/the keyring is locked/);
      expect(error.hint).toMatch(/[Uu]nlock/);
      // "auto" probes by storing: it sees the lock and falls back to the file, with one warning saying so when it
      // first stores a session there (deciding alone says nothing).
      warnings = [];
      const store = autoStore({ service: name, keychain, file: fileStore({ service: name, dir: join(root, name), logger }), logger });
      expect(await store.active()).toBe("file");
      expect(warnings).toEqual([]);
      await store.set("default", '{"accessToken":"a"}');
      expect(warnings).toEqual([expect.stringMatching(/the keyring is locked/)]);
      // logout() cannot see the session either: it reports none and the item stays (documented: unlock, then log out).
      expect(await auth(keychain).logout()).toEqual({ revoked: false, hadSession: false });
      // The session is still there, unwritten since the lock, for when the user unlocks the keyring.
      expect(searchItems(own, name)).toEqual({ unlocked: [], locked: [item] });
      expect(modified(own, item!)).toBe(written);
    } finally {
      await own.stop();
    }
  });

  it("secret-tool hanging: storage_unavailable after timeoutMs, the child killed; auto falls back to the file", async () => {
    const name = service();
    const hang = hangingSecretTool();
    const keychain = keyringStore(name, { timeoutMs: 500, env: { PATH: `${hang.path}:${process.env.PATH}` } });
    const started = performance.now();
    const error = await rejection(auth(keychain).getAccessToken());
    expect(performance.now() - started).toBeLessThan(500 + 1_500);
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toMatch(/did not finish within 500 ms/);
    expect(error.hint).toMatch(/unlock/i);
    expect(hang.pids().length).toBeGreaterThan(0);
    // The hung tool does not outlive the error.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hang.pids().filter(alive)).toEqual([]);
    warnings = [];
    const dir = join(root, name);
    const store = autoStore({ service: name, keychain, file: fileStore({ service: name, dir, logger }), logger });
    const { tokens } = await loginWithoutBrowser(auth(store));
    expect(warnings).toEqual([expect.stringMatching(/did not finish within 500 ms.*credentials\.json/)]);
    expect(await auth(store).getAccessToken()).toBe(tokens.accessToken);
    expect(hang.pids().filter(alive)).toEqual([]);
  });

  it("a corrupt keychain entry: storage_corrupt on read; a new login replaces it", async () => {
    const name = service();
    const keychain = keyringStore(name);
    await secretTool(keyring, ["store", "--label", name, "service", name, "account", "default"], "{ not a session");
    const error = await rejection(auth(keychain).getAccessToken());
    expect(error.code).toBe("storage_corrupt");
    expect(error.hint).toMatch(/[Ll]og in again/);
    const { tokens } = await loginWithoutBrowser(auth(keychain));
    expect(await auth(keychain).getAccessToken()).toBe(tokens.accessToken);
  });
});

describe("credentials file faults", () => {
  it("a file where the config folder should be (an unwritable folder, also for root): storage_unavailable everywhere", async () => {
    const name = service();
    const dir = join(root, name);
    writeFileSync(dir, "not a folder\n");
    const store = fileStore({ service: name, dir, logger });
    const error = await rejection(loginWithoutBrowser(auth(store)));
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toMatch(/credentials\.json/);
    expect(error.hint).toBeTruthy();
    expect((await rejection(auth(store).getAccessToken())).code).toBe("storage_unavailable");
    expect((await rejection(auth(store).logout())).code).toBe("storage_unavailable");
    // What stood there is untouched.
    expect(readFileSync(dir, "utf8")).toBe("not a folder\n");
  });

  it("a full disk during a refresh: storage_unavailable, the file byte for byte as it was, no temporary file left", async () => {
    const name = service();
    const configHome = join(root, `${name}-config`);
    const dir = join(configHome, name);
    const store = fileStore({ service: name, dir, logger });
    await loginWithoutBrowser(auth(store));
    const file = join(dir, "credentials.json");
    const before = readFileSync(file);
    // A CLI process asking for a token that needs a refresh, unable to write more than 1 KB to any file.
    const [command, args] = await scriptCommand(GET_TOKEN);
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("sh", ["-c", `trap '' XFSZ; ulimit -f 2; exec "$0" "$@"`, command, ...args], {
        env: { ...process.env, ISSUER: provider.issuer, SERVICE: name, STORAGE: "file", FORCE_REFRESH: "1", XDG_CONFIG_HOME: configHome },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => void (stdout += chunk));
      child.stderr.on("data", (chunk) => void (stderr += chunk));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.stdout, result.stderr).toMatch(/^error storage_unavailable$/m);
    expect((await provider.tokenRequests("refresh_token")).length).toBeGreaterThan(0);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((entry) => entry.endsWith(".tmp"))).toEqual([]);
  });

  it("corrupt JSON: storage_corrupt naming the file for reads, logins and logouts; the file is never rewritten", async () => {
    const name = service();
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, "credentials.json");
    // It may hold other profiles a hand edit broke: the user decides what to do with it.
    const corrupt = '{ "version": 1, "profiles": { "work": { "tokens": ';
    writeFileSync(file, corrupt, { mode: 0o600 });
    const store = fileStore({ service: name, dir, logger });
    for (const run of [() => auth(store).getAccessToken(), () => auth(store).status(), () => auth(store).logout()]) {
      const error = await rejection(run());
      expect(error.code).toBe("storage_corrupt");
      expect(error.hint).toContain(file);
    }
    const error = await rejection(loginWithoutBrowser(auth(store)));
    expect(error.code).toBe("storage_corrupt");
    expect(readFileSync(file, "utf8")).toBe(corrupt);
  });

  it("a file made readable by others (by another owner): read as usual, set back to 0600, one warning", async () => {
    const name = service();
    const dir = join(root, name);
    const store = fileStore({ service: name, dir, logger });
    const { tokens } = await loginWithoutBrowser(auth(store));
    const file = join(dir, "credentials.json");
    chmodSync(file, 0o644);
    if (process.getuid?.() === 0) chownSync(file, 65534, 65534); // "someone else" did it
    warnings = [];
    const reader = fileStore({ service: name, dir, logger });
    expect(await auth(reader).getAccessToken()).toBe(tokens.accessToken);
    expect(await auth(reader).getAccessToken()).toBe(tokens.accessToken);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(warnings).toEqual([expect.stringMatching(/readable by other users \(mode 0644\); it is now 0600/)]);
  });
});
