/**
 * Credentials in a file readable only by the user, for machines without a usable keychain (SSH sessions, containers,
 * CI) or by choice (`storage: "file"`).
 *
 * - Where: `$XDG_CONFIG_HOME/<service>/credentials.json` (default `~/.config/<service>/`), `%APPDATA%\<service>\` on
 *   Windows, or `<dir>/credentials.json` when `dir` is given.
 * - Shape: `{ "version": 1, "profiles": { "<profile>": … } }`, profiles side by side. A value that is a compact JSON
 *   object (as sessions are) is kept as that object, for people who read the file; any other value as a string.
 * - Safety: the folder is created `0700` and the file written `0600` (on Windows the per-user ACL of `%APPDATA%`
 *   applies). A file found readable by group or others is set back to `0600`, with one warning through `logger`.
 * - Atomic: each write goes to a temporary file in the same folder, is flushed (`fsync`) and renamed over the old
 *   file, so a reader sees the old or the new file, never a torn one. Read-modify-write runs under a lock file
 *   (`credentials.json.lock`, see `withLock`), so writers in several processes do not drop each other's profiles.
 * - A file that is not valid JSON, or not of this shape, gives `storage_corrupt` and is never overwritten: the user
 *   decides what to do with it.
 *
 * Node built-ins are loaded on first use.
 *
 * @module
 */
import type { CredentialStore, Logger } from "../../src/contracts.ts";
import { withLock } from "../lock.ts";
import { currentOs, osName } from "../os.ts";
import { checkService, checkStorageKey } from "../../src/names.ts";
import { type StoreAction, storeError } from "./_store_error.ts";

/**
 * Options of {@link fileStore}.
 *
 * @example Usage
 * ```ts
 * import type { FileStoreOptions } from "@x/cli-auth/adapters";
 * const options: FileStoreOptions = { service: "my-cli", logger: { warn: (m) => console.error(m) } };
 * ```
 */
export interface FileStoreOptions {
  /** Names the config folder (your CLI's name). */
  service: string;
  /** The folder of `credentials.json` instead of the platform's config folder for `service`. */
  dir?: string;
  /** Where the warning about loose file permissions goes (default: stderr). */
  logger?: Logger;
  /** The OS to follow instead of this machine's: `"windows"` (or `"win32"`) for `%APPDATA%` and no mode bits. */
  platform?: string;
}

/**
 * A {@link CredentialStore} in a file, which can say where the file is.
 *
 * @example Usage
 * ```ts
 * import { fileStore, type FileStore } from "@x/cli-auth/adapters";
 * const store: FileStore = fileStore({ service: "my-cli" });
 * console.log(await store.location()); // /home/me/.config/my-cli/credentials.json
 * ```
 */
export interface FileStore extends CredentialStore {
  /** Always `"file"`. */
  readonly kind: "file";
  /** The absolute path of the credentials file (it may not exist yet). */
  location(): Promise<string>;
}

/**
 * The file name inside the folder.
 *
 * @example Usage
 * ```ts
 * import { CREDENTIALS_FILE } from "./file.ts";
 * console.assert(CREDENTIALS_FILE === "credentials.json");
 * ```
 */
export const CREDENTIALS_FILE = "credentials.json";

interface CredentialsFile {
  version?: number;
  profiles: Record<string, unknown>;
  [key: string]: unknown;
}

interface Node {
  fs: typeof import("node:fs/promises");
  path: typeof import("node:path");
  os: typeof import("node:os");
}

let node: Promise<Node> | undefined;
const loadNode = () =>
  node ??= Promise.all([import("node:fs/promises"), import("node:path"), import("node:os")]).then((
    [fs, path, os],
  ) => ({ fs, path, os }));

const env = (): Record<string, string | undefined> =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const errorCode = (error: unknown) => (error as { code?: unknown })?.code;

/** The config folder of `service`, following the platform's convention. */
async function configDir(service: string, windows: boolean): Promise<string> {
  const { path: nodePath, os } = await loadNode();
  const vars = env();
  if (windows) {
    const path = nodePath.win32;
    const appData = vars.APPDATA && path.isAbsolute(vars.APPDATA)
      ? vars.APPDATA
      : path.join(os.homedir(), "AppData", "Roaming");
    return path.join(appData, service);
  }
  const path = nodePath.posix;
  const xdg = vars.XDG_CONFIG_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".config"), service);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How a value is kept in the file: as a JSON object when that round-trips exactly, else as the string. */
function toStored(value: string): unknown {
  if (!value.startsWith("{")) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return isPlainObject(parsed) && JSON.stringify(parsed) === value ? parsed : value;
  } catch {
    return value;
  }
}

function fromStored(stored: unknown): string | undefined {
  if (typeof stored === "string") return stored;
  if (isPlainObject(stored)) return JSON.stringify(stored);
  return undefined;
}

/**
 * A credential store in `credentials.json` under the user's config folder.
 *
 * @param options service name; optionally another folder and a logger
 * @returns the store; no file is touched until it is used
 * @throws {CliAuthError} `invalid_options` for a bad service name; from its methods: `storage_corrupt` when the file
 * is not valid JSON or not of the expected shape (the file is left as it is), `storage_unavailable` when it cannot
 * be read or written (permissions, disk full), `invalid_options` for a bad profile name
 *
 * @example Usage
 * ```ts
 * import { fileStore } from "@x/cli-auth/adapters";
 * const store = fileStore({ service: "my-cli" });
 * await store.set("work", JSON.stringify({ accessToken: "…" }));
 * console.log(await store.get("work"));
 * await store.delete("work");
 * ```
 */
export function fileStore(options: FileStoreOptions): FileStore {
  checkService(options.service);
  const service = options.service;
  const windows = (options.platform === undefined ? currentOs() : osName(options.platform)) === "windows";
  const logger = options.logger ?? { warn: (message: string) => console.error(message) };
  let warnedLoose = false;
  let resolved: Promise<{ dir: string; file: string }> | undefined;

  const paths = () =>
    resolved ??= (async () => {
      const path = (await loadNode()).path[windows ? "win32" : "posix"];
      const dir = options.dir === undefined ? await configDir(service, windows) : path.resolve(options.dir);
      return { dir, file: path.join(dir, CREDENTIALS_FILE) };
    })();

  const unavailable = (action: StoreAction, profile: string, file: string, error: unknown) => {
    const code = errorCode(error);
    const why = code === "EACCES" || code === "EPERM"
      ? `permission denied on ${file}`
      : code === "ENOSPC"
      ? "the disk is full"
      : `${file} cannot be used${typeof code === "string" ? ` (${code})` : ""}`;
    return storeError("storage_unavailable", action, profile, why, {
      cause: error,
      hint: "Check the permissions of the folder and the file",
    });
  };

  const corrupt = (action: StoreAction, profile: string, file: string, reason: string) =>
    storeError("storage_corrupt", action, profile, reason, {
      hint: `Fix or delete ${file}, then log in again`,
    });

  /** Reads and checks the file; `undefined` when it does not exist. */
  async function load(action: StoreAction, profile: string): Promise<CredentialsFile | undefined> {
    const { fs } = await loadNode();
    const { file } = await paths();
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw unavailable(action, profile, file, error);
    }
    await tighten(file);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw corrupt(action, profile, file, "file is not valid JSON");
    }
    if (!isPlainObject(data) || !isPlainObject(data.profiles)) {
      throw corrupt(action, profile, file, 'file has no "profiles" object');
    }
    if (data.version !== undefined && data.version !== 1) {
      throw corrupt(action, profile, file, `file has format version ${JSON.stringify(data.version)}, expected 1`);
    }
    // A prototype-free copy, so that a profile named "__proto__" is just a profile.
    const profiles: Record<string, unknown> = Object.create(null);
    for (const [name, value] of Object.entries(data.profiles)) profiles[name] = value;
    return { ...data, profiles };
  }

  /** Sets a file readable by group or others back to 0600, and says so once. */
  async function tighten(file: string): Promise<void> {
    if (windows) return;
    const { fs } = await loadNode();
    try {
      const stat = await fs.stat(file);
      if ((stat.mode & 0o077) === 0) return;
      await fs.chmod(file, 0o600);
      if (!warnedLoose) {
        warnedLoose = true;
        logger.warn(
          `The credentials file ${file} was readable by other users (mode ${
            (stat.mode & 0o777).toString(8).padStart(4, "0")
          }); it is now 0600`,
        );
      }
    } catch {
      // Not ours to fix (another owner, read-only file system): reading goes on.
    }
  }

  async function ensureDir(dir: string): Promise<void> {
    const { fs } = await loadNode();
    try {
      await fs.stat(dir);
      return;
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
    }
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    if (!windows) await fs.chmod(dir, 0o700); // the mode given to mkdir is reduced by the umask
  }

  /** Replaces the file atomically: temporary file in the same folder, fsync, rename, fsync of the folder. */
  async function save(dir: string, file: string, data: CredentialsFile | undefined): Promise<void> {
    const { fs } = await loadNode();
    const path = (await loadNode()).path[windows ? "win32" : "posix"];
    if (data === undefined) {
      await fs.rm(file, { force: true });
      return;
    }
    await ensureDir(dir);
    const pid = (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
    const temp = path.join(dir, `.${CREDENTIALS_FILE}.${pid}.${crypto.randomUUID()}.tmp`);
    const handle = await fs.open(temp, "wx", 0o600);
    try {
      try {
        await handle.writeFile(JSON.stringify(data, null, 2) + "\n", "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, file);
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => {});
      throw error;
    }
    try {
      const folder = await fs.open(dir, "r");
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    } catch {
      // Not every platform can open or sync a folder (Windows); the rename itself is atomic.
    }
  }

  async function update(
    action: StoreAction,
    profile: string,
    change: (profiles: Record<string, unknown>) => boolean,
  ): Promise<void> {
    const { dir, file } = await paths();
    try {
      await ensureDir(dir);
    } catch (error) {
      throw unavailable(action, profile, file, error);
    }
    await withLock(CREDENTIALS_FILE, async () => {
      const data = await load(action, profile) ?? { version: 1, profiles: Object.create(null) };
      if (!change(data.profiles)) return;
      const empty = Object.keys(data.profiles).length === 0 && Object.keys(data).every((k) => k === "version" || k === "profiles");
      try {
        await save(dir, file, empty ? undefined : { ...data, version: 1 });
      } catch (error) {
        throw unavailable(action, profile, file, error);
      }
    }, { dir, staleMs: 10_000, timeoutMs: 15_000 });
  }

  return {
    kind: "file",
    async location() {
      return (await paths()).file;
    },
    async get(profile) {
      checkStorageKey(profile);
      const data = await load("read", profile);
      if (!data || !Object.hasOwn(data.profiles, profile)) return null;
      const value = fromStored(data.profiles[profile]);
      if (value === undefined) {
        const { file } = await paths();
        throw corrupt("read", profile, file, "its entry is neither a string nor an object");
      }
      return value;
    },
    async set(profile, value) {
      checkStorageKey(profile);
      if (typeof value !== "string") throw new TypeError("A credential value must be a string");
      await update("store", profile, (profiles) => {
        profiles[profile] = toStored(value);
        return true;
      });
    },
    async delete(profile) {
      checkStorageKey(profile);
      // Nothing to delete needs no folder, no lock and no write.
      const data = await load("delete", profile);
      if (!data || !Object.hasOwn(data.profiles, profile)) return;
      await update("delete", profile, (profiles) => {
        if (!Object.hasOwn(profiles, profile)) return false;
        delete profiles[profile];
        return true;
      });
    },
  };
}
