// The decision of login({ flow: "auto" }) over environment snapshots.
import { describe, expect, it } from "vitest";
import { chooseFlow, type EnvironmentSnapshot, type FlowChoice } from "../../src/mod.ts";

const tty = { stdinIsTTY: true, stderrIsTTY: true };
const cases: [string, EnvironmentSnapshot, boolean, FlowChoice][] = [
  ["desktop macOS", { os: "darwin", env: {}, ...tty, wsl: false }, true, { flow: "browser" }],
  ["desktop Windows", { os: "windows", env: {}, ...tty, wsl: false }, true, { flow: "browser" }],
  ["desktop Linux on X11", { os: "linux", env: { DISPLAY: ":0" }, ...tty, wsl: false }, true, { flow: "browser" }],
  ["desktop Linux on Wayland", { os: "linux", env: { WAYLAND_DISPLAY: "wayland-0" }, ...tty, wsl: false }, true, { flow: "browser" }],
  ["WSL without DISPLAY (opens the Windows browser)", { os: "linux", env: {}, ...tty, wsl: true }, true, { flow: "browser" }],
  ["SSH into macOS", { os: "darwin", env: { SSH_CONNECTION: "10.0.0.2 50000 10.0.0.1 22" }, ...tty, wsl: false }, true, { flow: "device", reason: "ssh" }],
  ["SSH with X forwarding still counts as SSH", { os: "linux", env: { SSH_TTY: "/dev/pts/1", DISPLAY: "localhost:10.0" }, ...tty, wsl: false }, true, { flow: "device", reason: "ssh" }],
  ["SSH_CLIENT only", { os: "linux", env: { SSH_CLIENT: "10.0.0.2 50000 22", DISPLAY: ":0" }, ...tty, wsl: false }, true, { flow: "device", reason: "ssh" }],
  ["container without DISPLAY", { os: "linux", env: {}, ...tty, wsl: false }, true, { flow: "device", reason: "no_display" }],
  ["CI", { os: "linux", env: { CI: "true", DISPLAY: ":99" }, stdinIsTTY: false, stderrIsTTY: false, wsl: false }, true, { flow: "device", reason: "ci" }],
  ["CI=false is not CI", { os: "darwin", env: { CI: "false" }, ...tty, wsl: false }, true, { flow: "browser" }],
  ["GitHub Codespaces", { os: "linux", env: { CODESPACES: "true", DISPLAY: ":1" }, ...tty, wsl: false }, true, { flow: "device", reason: "remote_container" }],
  ["no TTY on a desktop (piped in and out)", { os: "darwin", env: {}, stdinIsTTY: false, stderrIsTTY: false, wsl: false }, true, { flow: "device", reason: "no_tty" }],
  ["stdin piped but stderr on a terminal", { os: "darwin", env: {}, stdinIsTTY: false, stderrIsTTY: true, wsl: false }, true, { flow: "browser" }],
  ["SSH, server without device endpoint", { os: "linux", env: { SSH_CONNECTION: "a b c d" }, ...tty, wsl: false }, false, { flow: "manual", reason: "ssh" }],
  ["container, server without device endpoint", { os: "linux", env: {}, ...tty, wsl: false }, false, { flow: "manual", reason: "no_display" }],
  ["desktop, server without device endpoint", { os: "windows", env: {}, ...tty, wsl: false }, false, { flow: "browser" }],
  ["empty SSH_CONNECTION does not count", { os: "darwin", env: { SSH_CONNECTION: "" }, ...tty, wsl: false }, true, { flow: "browser" }],
];

describe("chooseFlow()", () => {
  for (const [name, snapshot, deviceFlowAvailable, expected] of cases) {
    it(`${name} → ${expected.flow}`, () => {
      expect(chooseFlow(snapshot, { deviceFlowAvailable })).toEqual(expected);
    });
  }
});
