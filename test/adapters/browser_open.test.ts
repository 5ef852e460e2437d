// The browser opener per platform, with the spawner faked: exact argv, the URL always one argument, no shell.
import { describe, expect, it } from "vitest";
import { browserCommands, type BrowserEnvironment, openBrowser } from "../../adapters/browser/open.ts";

const URL_WITH_SPECIALS = "https://auth.example.com/authorize?client_id=my-cli&scope=openid%20email&state=a%26b&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcallback";

function recorder(results: boolean[] = []) {
  const calls: [string, string[]][] = [];
  const spawn = (command: string, args: readonly string[]) => {
    calls.push([command, [...args]]);
    return Promise.resolve(results.shift() ?? true);
  };
  return { calls, spawn };
}

async function argvFor(environment: BrowserEnvironment, results?: boolean[]) {
  const { calls, spawn } = recorder(results);
  const opened = await openBrowser(URL_WITH_SPECIALS, { environment, spawn });
  return { calls, opened };
}

const SHELLS = ["sh", "bash", "/bin/sh", "cmd", "cmd.exe", "powershell", "powershell.exe", "pwsh"];

describe("openBrowser()", () => {
  it("uses `open <url>` on macOS", async () => {
    const { calls, opened } = await argvFor({ os: "darwin", wsl: false, env: {} });
    expect(opened).toBe(true);
    expect(calls).toEqual([["open", [URL_WITH_SPECIALS]]]);
  });

  it("uses `xdg-open <url>` on Linux, then `gio open` if that cannot start", async () => {
    const { calls, opened } = await argvFor({ os: "linux", wsl: false, env: {} }, [false, true]);
    expect(opened).toBe(true);
    expect(calls).toEqual([
      ["xdg-open", [URL_WITH_SPECIALS]],
      ["gio", ["open", URL_WITH_SPECIALS]],
    ]);
  });

  it("uses rundll32 url.dll,FileProtocolHandler on Windows, with & and % intact in one argument", async () => {
    const { calls } = await argvFor({ os: "windows", wsl: false, env: {} });
    expect(calls).toEqual([["rundll32", ["url.dll,FileProtocolHandler", URL_WITH_SPECIALS]]]);
    expect(calls[0]![1][1]).toContain("&scope=openid%20email&state=a%26b");
  });

  it("uses wslview on WSL, then rundll32.exe through interop, then xdg-open", async () => {
    const { calls, opened } = await argvFor({ os: "linux", wsl: true, env: {} }, [false, false, false, false]);
    expect(opened).toBe(false);
    expect(calls).toEqual([
      ["wslview", [URL_WITH_SPECIALS]],
      ["rundll32.exe", ["url.dll,FileProtocolHandler", URL_WITH_SPECIALS]],
      ["xdg-open", [URL_WITH_SPECIALS]],
      ["gio", ["open", URL_WITH_SPECIALS]],
    ]);
  });

  it("honours $BROWSER first: a command, arguments, and %s standing for the URL", async () => {
    const plain = await argvFor({ os: "linux", wsl: false, env: { BROWSER: "firefox" } });
    expect(plain.calls).toEqual([["firefox", [URL_WITH_SPECIALS]]]);
    const withArgs = await argvFor({ os: "darwin", wsl: false, env: { BROWSER: "w3m -o x=1 %s" } });
    expect(withArgs.calls).toEqual([["w3m", ["-o", "x=1", URL_WITH_SPECIALS]]]);
    const list = await argvFor({ os: "linux", wsl: false, env: { BROWSER: "missing-browser:lynx" } }, [false, true]);
    expect(list.calls).toEqual([
      ["missing-browser", [URL_WITH_SPECIALS]],
      ["lynx", [URL_WITH_SPECIALS]],
    ]);
  });

  it("puts the URL into a $BROWSER %s placeholder as it is, even when it holds $&, $` or $'", async () => {
    // Those are patterns of String.prototype.replace's replacement string: a URL must never be read as one.
    const url = "https://auth.example.com/authorize?state=a$&b&next=$`x&hint=$'y&n=$$&z=$1";
    const { calls, spawn } = recorder();
    await openBrowser(url, { environment: { os: "linux", wsl: false, env: { BROWSER: "w3m --url=%s -o x=%s" } }, spawn });
    expect(calls).toEqual([["w3m", [`--url=${url}`, "-o", `x=${url}`]]]);
  });

  it("never starts a shell and never builds a command string", () => {
    const environments: BrowserEnvironment[] = [
      { os: "darwin", wsl: false, env: {} },
      { os: "linux", wsl: false, env: {} },
      { os: "linux", wsl: true, env: {} },
      { os: "windows", wsl: false, env: {} },
      { os: "linux", wsl: false, env: { BROWSER: "firefox %s" } },
    ];
    for (const environment of environments) {
      for (const { command, args } of browserCommands(URL_WITH_SPECIALS, environment)) {
        expect(SHELLS).not.toContain(command);
        expect(args.filter((arg) => arg.includes(URL_WITH_SPECIALS))).toEqual([URL_WITH_SPECIALS]);
        expect(args).not.toContain("/c");
        expect(args).not.toContain("-c");
      }
    }
  });

  it("never throws: a spawner that throws or fails gives false", async () => {
    const throwing = () => Promise.reject(new Error("boom"));
    expect(await openBrowser(URL_WITH_SPECIALS, { environment: { os: "linux", wsl: false, env: {} }, spawn: throwing })).toBe(false);
    const { opened } = await argvFor({ os: "darwin", wsl: false, env: {} }, [false]);
    expect(opened).toBe(false);
  });

  it("opens only http and https URLs", async () => {
    const { calls, spawn } = recorder();
    for (const url of ["file:///etc/passwd", "javascript:alert(1)", "not a url", "ssh://host"]) {
      expect(await openBrowser(url, { environment: { os: "linux", wsl: false, env: {} }, spawn })).toBe(false);
    }
    expect(calls).toEqual([]);
  });
});
