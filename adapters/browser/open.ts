/**
 * Opening the user's browser at a URL, the way each OS expects, without a shell: the URL is always one argument of
 * a command started directly, so `&`, `%`, `;` or quotes in it mean nothing to any shell. Opening never throws and
 * never blocks the login: if it fails, the printed URL is enough.
 *
 * @module
 */

import { type DetachedSpawner, spawnDetached } from "../subprocess.ts";

/**
 * One way of opening the browser: a command and its arguments.
 *
 * @example Usage
 * ```ts
 * import type { BrowserCommand } from "./open.ts";
 * const command: BrowserCommand = { command: "open", args: ["https://example.com/"] };
 * ```
 */
export interface BrowserCommand {
  /** The executable to start, looked up on PATH (`open`, `xdg-open`, `rundll32`, a `$BROWSER` entry, …). */
  command: string;
  /** Its arguments, the URL being exactly one of them (never parsed by a shell). */
  args: string[];
}

/**
 * What decides how to open the browser.
 *
 * @example Usage
 * ```ts
 * import type { BrowserEnvironment } from "@x/cli-auth/adapters";
 * const wsl: BrowserEnvironment = { os: "linux", wsl: true, env: {} };
 * ```
 */
export interface BrowserEnvironment {
  /** The operating system, as `currentOs()` reports it. */
  os: "darwin" | "linux" | "windows" | "other";
  /** Windows Subsystem for Linux. */
  wsl: boolean;
  /** `BROWSER` is honoured when set. */
  env: Record<string, string | undefined>;
}

/**
 * Splits a `$BROWSER` entry into a command and arguments on whitespace (no shell, no quoting rules); `%s` is
 * replaced by the URL, otherwise the URL is appended.
 */
function fromBrowserVariable(entry: string, url: string): BrowserCommand | undefined {
  const words = entry.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return undefined;
  const [command, ...rest] = words as [string, ...string[]];
  const hasPlaceholder = rest.some((word) => word.includes("%s"));
  // A function, not a string: a replacement string reads `$&`, `` $` ``, `$'` and `$$` in the URL as patterns.
  const args = rest.map((word) => word.replaceAll("%s", () => url));
  return { command, args: hasPlaceholder ? args : [...args, url] };
}

/**
 * The commands to try, in order, to open `url` (pure: the decision is unit-testable on any OS).
 *
 * - `$BROWSER` first (a `:`-separated list, each entry a command, `%s` standing for the URL);
 * - macOS: `open <url>`;
 * - Windows: `rundll32 url.dll,FileProtocolHandler <url>` (no `cmd.exe`, so `&` survives);
 * - WSL: `wslview <url>`, then `rundll32.exe url.dll,FileProtocolHandler <url>` through interop, then `xdg-open`;
 * - Linux and the rest: `xdg-open <url>`, then `gio open <url>`.
 *
 * @param url the URL to open
 * @param environment OS, WSL and environment variables
 * @returns candidate commands, best first
 *
 * @example Usage
 * ```ts
 * import { browserCommands } from "./open.ts";
 * const [first] = browserCommands("https://example.com/?a=1&b=2", { os: "darwin", wsl: false, env: {} });
 * // first = { command: "open", args: ["https://example.com/?a=1&b=2"] }
 * ```
 */
export function browserCommands(url: string, environment: BrowserEnvironment): BrowserCommand[] {
  const commands: BrowserCommand[] = [];
  const browser = environment.env.BROWSER;
  if (browser) {
    for (const entry of browser.split(environment.os === "windows" ? ";" : ":")) {
      const command = fromBrowserVariable(entry, url);
      if (command) commands.push(command);
    }
  }
  switch (environment.os) {
    case "darwin":
      commands.push({ command: "open", args: [url] });
      break;
    case "windows":
      commands.push({ command: "rundll32", args: ["url.dll,FileProtocolHandler", url] });
      break;
    default:
      if (environment.wsl) {
        commands.push({ command: "wslview", args: [url] });
        commands.push({ command: "rundll32.exe", args: ["url.dll,FileProtocolHandler", url] });
      }
      commands.push({ command: "xdg-open", args: [url] });
      commands.push({ command: "gio", args: ["open", url] });
  }
  return commands;
}

/**
 * Options of {@link openBrowser}.
 *
 * @example Usage
 * ```ts
 * import type { OpenBrowserOptions } from "@x/cli-auth/adapters";
 * const options: OpenBrowserOptions = { environment: { os: "linux", wsl: false, env: {} } };
 * ```
 */
export interface OpenBrowserOptions {
  /** OS, WSL and environment (default: this process's). */
  environment?: BrowserEnvironment;
  /** Starts a command detached (default {@link spawnDetached}); fake it in tests. */
  spawn?: DetachedSpawner;
}

/**
 * Opens `url` in the user's browser: tries {@link browserCommands} in order until one starts. Resolves whether one
 * did; never throws, never waits for the browser.
 *
 * @param url the URL to open (only `http:` and `https:` URLs are opened)
 * @param options environment and spawner overrides
 * @returns whether a command started
 *
 * @example Usage
 * ```ts
 * import { openBrowser } from "@x/cli-auth/adapters";
 * if (!(await openBrowser("https://example.com/login"))) console.error("Open the URL above in a browser");
 * ```
 */
export async function openBrowser(url: string, options: OpenBrowserOptions = {}): Promise<boolean> {
  try {
    const protocol = new URL(url).protocol;
    if (protocol !== "http:" && protocol !== "https:") return false;
    const environment = options.environment ?? await currentBrowserEnvironment();
    const spawn = options.spawn ?? spawnDetached;
    for (const { command, args } of browserCommands(url, environment)) {
      if (await spawn(command, args)) return true;
    }
    return false;
  } catch {
    return false;
  }
}

/**
 * This process's OS, WSL status and environment, read when asked.
 *
 * @returns the browser environment
 *
 * @example Usage
 * ```ts
 * import { currentBrowserEnvironment } from "./open.ts";
 * const { os, wsl } = await currentBrowserEnvironment();
 * ```
 */
export async function currentBrowserEnvironment(): Promise<BrowserEnvironment> {
  const [{ currentOs }, { loadRuntime }, { isWsl }] = await Promise.all([
    import("../os.ts"),
    import("../runtimes.ts"),
    import("../terminal.ts"),
  ]);
  const runtime = await loadRuntime();
  const os = currentOs();
  return { os, wsl: os === "linux" && await isWsl(runtime), env: { BROWSER: runtime.env("BROWSER") } };
}
