/**
 * What `flow: "auto"` picks, as a pure function of an environment snapshot: the browser flow on a desktop, the
 * device flow when the session looks headless and the server offers it, manual paste when headless without it.
 *
 * @module
 */

import type { EnvironmentSnapshot } from "../contracts.ts";

/**
 * Why a session counts as headless (a browser on this machine could not reach, or does not exist).
 *
 * @example Usage
 * ```ts
 * import type { HeadlessReason } from "@x/cli-auth";
 * const reason: HeadlessReason = "ssh";
 * ```
 */
export type HeadlessReason = "ssh" | "ci" | "no_display" | "no_tty" | "remote_container";

const isSet = (value: string | undefined) => value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";

/**
 * Whether the session looks headless, and why: SSH (`SSH_CONNECTION`, `SSH_CLIENT`, `SSH_TTY`), CI (`CI`), a
 * remote container (`CODESPACES`, `REMOTE_CONTAINERS`), Linux without `DISPLAY`/`WAYLAND_DISPLAY` (WSL excepted: it
 * opens the Windows browser), or no terminal at all.
 *
 * @param snapshot the environment
 * @returns the reason, or `undefined` on a desktop
 *
 * @example Usage
 * ```ts
 * import { headlessReason } from "@x/cli-auth/protocol";
 * const reason = headlessReason({ os: "linux", env: { SSH_CONNECTION: "1.2.3.4 5 6.7.8.9 22" }, stdinIsTTY: true, stderrIsTTY: true, wsl: false });
 * // "ssh"
 * ```
 */
export function headlessReason(snapshot: EnvironmentSnapshot): HeadlessReason | undefined {
  const { env } = snapshot;
  if (isSet(env.SSH_CONNECTION) || isSet(env.SSH_CLIENT) || isSet(env.SSH_TTY)) return "ssh";
  if (isSet(env.CI)) return "ci";
  if (isSet(env.CODESPACES) || isSet(env.REMOTE_CONTAINERS)) return "remote_container";
  if (snapshot.os === "linux" && !snapshot.wsl && !isSet(env.DISPLAY) && !isSet(env.WAYLAND_DISPLAY)) return "no_display";
  if (!snapshot.stdinIsTTY && !snapshot.stderrIsTTY) return "no_tty";
  return undefined;
}

/**
 * The decision of `flow: "auto"`.
 *
 * @example Usage
 * ```ts
 * import type { FlowChoice } from "@x/cli-auth";
 * const choice: FlowChoice = { flow: "device", reason: "ssh" };
 * ```
 */
export interface FlowChoice {
  /** The flow to run: `"browser"` on a desktop, else `"device"` when the server offers it, else `"manual"`. */
  flow: "browser" | "device" | "manual";
  /** Why the session counts as headless; absent on a desktop. */
  reason?: HeadlessReason;
}

/**
 * Picks the flow: browser on a desktop; when headless, device if the server has a device authorization endpoint,
 * else manual paste.
 *
 * @param snapshot the environment
 * @param options whether the server offers the device flow
 * @returns the flow and the headless reason
 *
 * @example Usage
 * ```ts
 * import { chooseFlow } from "@x/cli-auth/protocol";
 * const { flow } = chooseFlow(
 *   { os: "darwin", env: {}, stdinIsTTY: true, stderrIsTTY: true, wsl: false },
 *   { deviceFlowAvailable: true },
 * );
 * // "browser"
 * ```
 */
export function chooseFlow(snapshot: EnvironmentSnapshot, options: { deviceFlowAvailable: boolean }): FlowChoice {
  const reason = headlessReason(snapshot);
  if (reason === undefined) return { flow: "browser" };
  return { flow: options.deviceFlowAvailable ? "device" : "manual", reason };
}
