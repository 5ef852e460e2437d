// The child side of json_line_child.ts, for the rig's helper servers (Node scripts): report one JSON object per
// line on stdout, and exit when signalled or when the parent goes away (its end of stdin closes).

/** Writes one report line. */
export const report = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

/**
 * Closes the servers and exits on SIGTERM, SIGINT or the end of stdin; exits anyway after `graceMs`.
 *
 * @param {Array<import("node:http").Server | undefined>} servers the servers to close (the last one's close exits)
 * @param {number} graceMs how long open connections may delay the exit
 */
export function exitWithParent(servers, graceMs) {
  const shutdown = () => {
    const open = servers.filter(Boolean);
    for (const server of open.slice(0, -1)) {
      server.closeAllConnections?.();
      server.close();
    }
    const last = open.at(-1);
    last?.closeAllConnections?.();
    if (last) last.close(() => process.exit(0));
    else process.exit(0);
    setTimeout(() => process.exit(0), graceMs).unref();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  process.stdin.on("end", shutdown);
  process.stdin.resume();
}
