// A real, private Secret Service for tests: a dbus-daemon on a socket in a temp folder (no service activation, so
// nothing else can be started on it) and gnome-keyring-daemon unlocked with a non-empty password on stdin, with
// XDG_DATA_HOME, XDG_RUNTIME_DIR and HOME in the same temp folder so the user's real keyring is never touched.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestKeyring {
  /** Environment to hand to every process that should see this keyring (secret-tool, bun, the stores). */
  env: { DBUS_SESSION_BUS_ADDRESS: string };
  /** The temp folder holding the bus socket and the keyring files. */
  dir: string;
  /** Stops both daemons and removes the folder. */
  stop(): Promise<void>;
}

/** An environment in which there is no D-Bus session at all (the headless Linux case). */
export async function noBusEnv(): Promise<{ env: Record<string, string | undefined>; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cli-auth-nobus-"));
  return {
    // GDBus falls back to $XDG_RUNTIME_DIR/bus and to X11 autolaunch: an empty folder and no display.
    env: { DBUS_SESSION_BUS_ADDRESS: undefined, DISPLAY: undefined, XDG_RUNTIME_DIR: dir },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => void (stdout += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout }));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 2_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export async function startKeyring(): Promise<TestKeyring> {
  const dir = await mkdtemp(join(tmpdir(), "cli-auth-keyring-"));
  const data = join(dir, "data");
  const runtime = join(dir, "run");
  const home = join(dir, "home");
  await Promise.all([mkdir(data), mkdir(runtime, { mode: 0o700 }), mkdir(home)]);
  const config = join(dir, "bus.conf");
  await writeFile(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${join(dir, "bus")}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
  );

  const bus = spawn("dbus-daemon", [`--config-file=${config}`, "--nofork", "--nopidfile", "--print-address=1"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("dbus-daemon gave no address in 5 s")), 5_000);
    bus.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const newline = out.indexOf("\n");
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, newline).trim());
      }
    });
    bus.once("error", reject);
    bus.once("exit", (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
  });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DBUS_SESSION_BUS_ADDRESS: address,
    XDG_DATA_HOME: data,
    XDG_RUNTIME_DIR: runtime,
    HOME: home,
  };
  delete env.DISPLAY;
  const keyring = spawn("gnome-keyring-daemon", ["--foreground", "--unlock", "--components=secrets"], {
    env,
    stdio: ["pipe", "ignore", "ignore"],
  });
  // An empty password would make it look for a GUI prompter; any other unlocks the new login keyring.
  keyring.stdin!.end("cli-auth-test-password");

  const stop = async () => {
    await stopChild(keyring);
    await stopChild(bus);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { stdout } = await run("dbus-send", [
        `--bus=${address}`,
        "--print-reply",
        "--dest=org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus.NameHasOwner",
        "string:org.freedesktop.secrets",
      ], env);
      if (stdout.includes("boolean true")) break;
      if (keyring.exitCode !== null) throw new Error(`gnome-keyring-daemon exited with ${keyring.exitCode}`);
      if (Date.now() > deadline) throw new Error("gnome-keyring-daemon did not register on the bus in 10 s");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { env: { DBUS_SESSION_BUS_ADDRESS: address }, dir, stop };
}

/** Runs secret-tool against a keyring (for checks from the outside). */
export function secretTool(
  keyring: TestKeyring,
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("secret-tool", args, { env: { ...process.env, ...keyring.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => void (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => void (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin!.end(stdin ?? "");
  });
}

/** How many items the keyring holds for a service (secret-tool search prints one `[/…]` header per item). */
export async function countItems(keyring: TestKeyring, service: string): Promise<number> {
  const { stdout, stderr } = await secretTool(keyring, ["search", "--all", "service", service]);
  return ((stdout + stderr).match(/^\[\/[^\]\n]*\]$/gm) ?? []).length;
}
