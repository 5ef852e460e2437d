// Prerequisites: a public ("native") OAuth client registered for your CLI at your authorization server, with the
// loopback redirect URI http://127.0.0.1/callback (any port) and, for headless sign-in, the device grant.
//
// An example CLI built on @x/cli-auth: one source that runs on Deno, Bun and Node (and in `deno compile` /
// `bun build --compile` binaries).
//
//   my-cli login [--flow auto|browser|device|manual] [--no-browser]
//   my-cli login --json [--flow device|manual]   begins a sign-in, prints it as JSON and exits (for agents, scripts)
//   my-cli login --resume [--wait]      finishes it, in any later process (manual: the redirect URL on stdin)
//   my-cli login --cancel               forgets it
//   my-cli login --with-token < file    keeps a token you already have (read from stdin, never from argv)
//   my-cli logout [--no-revoke]
//   my-cli whoami [--json]
//   my-cli status [--json]
//   my-cli token [--json]   prints a valid access token, for piping into other tools
//
// Global flags: --profile <name>, --token <token> (or MYCLI_TOKEN). Exit codes: 0 ok, 1 error, 2 usage.
// With --json, what a command prints on stdout is one JSON document, errors included ({"error": {code, …}}).
// Configuration (the demo and the tests set these; a real CLI hard-codes its issuer and client ID):
//   MYCLI_ISSUER, MYCLI_CLIENT_ID, MYCLI_STORAGE (auto|keychain|file|memory), MYCLI_ALLOW_INSECURE=1 (http issuers)
import { CliAuth, CliAuthError, type LoginFlow } from "../mod.ts";

const USAGE = `Usage: my-cli <command> [flags]

Commands:
  login    Sign in (--flow auto|browser|device|manual, --no-browser)
           --json: begin a sign-in, print it as JSON, exit; --resume [--wait]: finish it (manual: URL on stdin);
           --cancel: forget it; --with-token: keep the token read from stdin
  logout   Sign out and revoke the session (--no-revoke to only forget it here)
  whoami   Show who you are, asked fresh from the server (--json)
  status   Show the stored login, without network (--json)
  token    Print a valid access token (--json)

Flags:
  --profile <name>   Use another account (default "default")
  --token <token>    Use this token instead of the stored login (also MYCLI_TOKEN)
`;

interface Runtime {
  args: string[];
  env(name: string): string | undefined;
  exit(code: number): never;
  onInterrupt(handler: () => void): void;
  /** Whether stdin is a terminal (a person typing, not a pipe or a file). */
  stdinIsTerminal(): boolean;
  /** All of stdin, as text. */
  readStdin(): Promise<string>;
}

function runtime(): Runtime {
  const g = globalThis as unknown as {
    Deno?: {
      args: string[];
      env: { get(n: string): string | undefined };
      exit(c: number): never;
      addSignalListener(s: string, h: () => void): void;
      stdin: { isTerminal(): boolean; readable: ReadableStream<Uint8Array> };
    };
    process: {
      argv: string[];
      env: Record<string, string | undefined>;
      exit(c: number): never;
      on(s: string, h: () => void): void;
      stdin: AsyncIterable<Uint8Array | string> & { isTTY?: boolean };
    };
  };
  if (g.Deno) {
    const deno = g.Deno;
    return {
      args: deno.args,
      env: (name) => deno.env.get(name),
      exit: (code) => deno.exit(code),
      onInterrupt: (handler) => deno.addSignalListener("SIGINT", handler),
      stdinIsTerminal: () => deno.stdin.isTerminal(),
      readStdin: () => new Response(deno.stdin.readable).text(),
    };
  }
  const process = g.process;
  return {
    args: process.argv.slice(2),
    env: (name) => process.env[name],
    exit: (code) => process.exit(code),
    onInterrupt: (handler) => process.on("SIGINT", handler),
    stdinIsTerminal: () => process.stdin.isTTY === true,
    readStdin: async () => {
      let text = "";
      const decoder = new TextDecoder();
      for await (const chunk of process.stdin) text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      return text + decoder.decode();
    },
  };
}

interface Parsed {
  command?: string;
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(["profile", "token", "flow"]);
const BOOLEAN_FLAGS = new Set(["json", "no-browser", "no-revoke", "help", "resume", "wait", "cancel", "with-token"]);

function parse(args: string[]): Parsed | string {
  const flags = new Map<string, string | true>();
  let command: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith("--")) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (VALUE_FLAGS.has(name)) {
        const value = inline ?? args[++i];
        if (value === undefined) return `--${name} needs a value`;
        flags.set(name, value);
      } else if (BOOLEAN_FLAGS.has(name)) {
        flags.set(name, true);
      } else {
        return `unknown flag --${name}`;
      }
    } else if (!command) {
      command = arg;
    } else {
      return `unexpected argument "${arg}"`;
    }
  }
  return { command, flags };
}

/** Whether --json was given: then errors, too, are printed as JSON on stdout. */
let json = false;

async function main(): Promise<number> {
  const rt = runtime();
  const parsed = parse(rt.args);
  if (typeof parsed === "string") {
    console.error(`my-cli: ${parsed}\n\n${USAGE}`);
    return 2;
  }
  const { command, flags } = parsed;
  if (!command || flags.has("help") || command === "help") {
    console.error(USAGE);
    return command || flags.has("help") ? 0 : 2;
  }
  json = flags.has("json");
  const flag = (name: string) => {
    const value = flags.get(name);
    return typeof value === "string" ? value : undefined;
  };

  const auth = new CliAuth({
    issuer: rt.env("MYCLI_ISSUER") ?? "https://auth.example.com",
    clientId: rt.env("MYCLI_CLIENT_ID") ?? "my-cli",
    service: "my-cli",
    loginCommand: "my-cli login",
    tokenEnvVar: "MYCLI_TOKEN",
    profile: flag("profile"),
    storage: (rt.env("MYCLI_STORAGE") as "auto" | "keychain" | "file" | "memory" | undefined) ?? "auto",
    allowInsecureRequests: rt.env("MYCLI_ALLOW_INSECURE") === "1",
  });

  switch (command) {
    case "login": {
      if (flags.has("with-token")) {
        // The token never goes through argv (other users can read it in the process list) nor a terminal echo.
        if (rt.stdinIsTerminal()) {
          console.error("my-cli: --with-token reads the token from stdin: pipe it in, e.g. `my-cli login --with-token < token.txt`");
          return 2;
        }
        await auth.loginWithToken(await rt.readStdin());
        const status = await auth.status();
        if (json) console.log(JSON.stringify({ loggedIn: status.loggedIn, profile: status.profile, storage: status.storage }));
        else console.error(`Logged in with the given token (stored in ${status.storage}).`);
        return 0;
      }
      if (flags.has("cancel")) {
        const { cancelled } = await auth.cancelLogin();
        if (json) console.log(JSON.stringify({ cancelled }));
        else console.error(cancelled ? "The pending sign-in is cancelled." : "No sign-in was pending.");
        return 0;
      }
      const controller = new AbortController();
      rt.onInterrupt(() => controller.abort());
      if (flags.has("resume")) {
        // One step first: it reports an expired sign-in as expired (status() would forget it first, and it would read
        // as none pending), makes no request for a manual one, and polls a device one only when its interval is up.
        let resumed = await auth.resumeLogin({ signal: controller.signal });
        if (!resumed.done && resumed.pending.flow === "manual") {
          // A manual sign-in is finished with the URL the browser was sent to, piped in (it holds a code: not argv).
          if (rt.stdinIsTerminal()) {
            console.error("my-cli: the pending sign-in is a manual one: pipe the URL your browser was redirected to into `my-cli login --resume`");
            return 2;
          }
          resumed = await auth.resumeLogin({ callbackUrl: await rt.readStdin(), signal: controller.signal });
        } else if (!resumed.done && flags.has("wait")) {
          resumed = await auth.resumeLogin({ wait: true, signal: controller.signal });
        }
        // The tokens stay in the store: what is printed is whether it is done, and who signed in.
        console.log(JSON.stringify(resumed.done ? { done: true, flow: resumed.result.flow, user: resumed.result.user } : resumed, null, 2));
        return 0;
      }
      if (json) {
        const flow = flag("flow") ?? "device";
        if (flow !== "device" && flow !== "manual") {
          console.error(`my-cli: login --json begins a device or manual sign-in (--flow device|manual)\n\n${USAGE}`);
          return 2;
        }
        console.log(JSON.stringify(await auth.beginLogin({ flow, signal: controller.signal }), null, 2));
        return 0;
      }
      const flow = (flag("flow") ?? "auto") as LoginFlow;
      if (!["auto", "browser", "device", "manual"].includes(flow)) {
        console.error(`my-cli: --flow must be auto, browser, device or manual\n\n${USAGE}`);
        return 2;
      }
      const { user, flow: used } = await auth.login({
        flow,
        openBrowser: !flags.has("no-browser"),
        signal: controller.signal,
      });
      const status = await auth.status();
      console.error(`Logged in as ${user?.email ?? user?.sub ?? "unknown user"} (${used} flow, stored in ${status.storage}).`);
      return 0;
    }
    case "logout": {
      const { revoked, hadSession } = await auth.logout({ revoke: !flags.has("no-revoke") });
      if (!hadSession) console.error("Not logged in.");
      else console.error(revoked ? "Logged out." : "Logged out on this machine (the server was not told).");
      return 0;
    }
    case "whoami": {
      const user = await auth.whoami({ tokenFromArg: flag("token") });
      if (json) console.log(JSON.stringify(user, null, 2));
      else console.log(`${user.email ?? user.sub}${user.name && user.name !== user.email ? ` (${user.name})` : ""}`);
      return 0;
    }
    case "status": {
      const status = await auth.status();
      if (json) {
        console.log(JSON.stringify(status, null, 2));
      } else if (status.loggedIn) {
        const expires = status.expiresAt ? new Date(status.expiresAt).toISOString() : "unknown";
        console.log(`Logged in as ${status.user?.email ?? status.user?.sub ?? "unknown user"} (profile "${status.profile}")`);
        console.log(`  storage: ${status.storage}`);
        console.log(`  access token expires: ${expires}${status.refreshable ? " (renews automatically)" : ""}`);
        if (status.scopes) console.log(`  scopes: ${status.scopes.join(" ")}`);
      } else {
        console.log(`Not logged in (profile "${status.profile}"). Run \`my-cli login\`.`);
      }
      return status.loggedIn ? 0 : 1;
    }
    case "token": {
      const { token, source } = await auth.resolveToken({ tokenFromArg: flag("token") });
      console.log(json ? JSON.stringify({ token, source }) : token);
      return 0;
    }
    default:
      console.error(`my-cli: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

const rt = runtime();
main().then(
  (code) => rt.exit(code),
  (error) => {
    if (error instanceof CliAuthError) {
      if (json) console.log(JSON.stringify({ error: { code: error.code, message: error.message, hint: error.hint } }));
      console.error(`error: ${error.message} (${error.code})`);
      if (error.hint) console.error(`hint: ${error.hint}`);
      rt.exit(error.code === "login_cancelled" ? 130 : 1);
    }
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    rt.exit(1);
  },
);
