/**
 * Reading one line from stdin (the manual-paste flow), with the prompt on stderr. `node:readline` is loaded on first
 * use; Deno and Bun implement it too. Stdin is released afterwards so the process can exit.
 *
 * @module
 */

import { CliAuthError } from "../src/common/errors.ts";

/**
 * Prints `prompt` on stderr and reads one line from stdin (without its line ending).
 *
 * @param prompt the question
 * @param signal cancels the wait; the promise then rejects with the signal's reason
 * @param writeStderr where the prompt goes
 * @returns the line
 * @throws {CliAuthError} `login_cancelled` when stdin ends before a line came
 *
 * @example Usage
 * ```ts
 * import { readLine } from "./stdin.ts";
 * const pasted = await readLine("Paste the URL your browser was sent to: ", undefined, (text) => console.error(text));
 * ```
 */
export async function readLine(
  prompt: string,
  signal: AbortSignal | undefined,
  writeStderr: (text: string) => void,
): Promise<string> {
  if (signal?.aborted) throw signal.reason;
  const { createInterface } = await import("node:readline");
  const input = (globalThis as unknown as { process: { stdin: NodeJS.ReadableStream & { pause(): void; unref?(): void } } })
    .process.stdin;
  writeStderr(prompt);
  const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
  try {
    return await new Promise<string>((resolve, reject) => {
      const onAbort = () => reject(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      lines.once("line", (line: string) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(line);
      });
      lines.once("close", () => {
        signal?.removeEventListener("abort", onAbort);
        reject(new CliAuthError("login_cancelled", "Standard input ended before anything was pasted"));
      });
    });
  } finally {
    lines.close();
    input.pause();
    input.unref?.();
  }
}
