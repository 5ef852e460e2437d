// Prerequisites: a public ("native") OAuth client registered for your CLI at your authorization server, with the
// loopback redirect URI http://127.0.0.1/callback (any port) and, for headless sign-in, the device grant.
//
// An example CLI built on @x/cli-auth: one source that runs on Deno, Bun and Node (and in `deno compile` /
// `bun build --compile` binaries).
//
//   my-cli login [--flow auto|browser|device|manual] [--no-browser]
//   my-cli logout [--no-revoke]
//   my-cli whoami [--json]
//   my-cli status [--json]
//   my-cli token            prints a valid access token, for piping into other tools
//
// Global flags: --profile <name>, --token <token> (or MYCLI_TOKEN). Exit codes: 0 ok, 1 error, 2 usage.
// Configuration (the demo and the tests set these; a real CLI hard-codes its issuer and client ID):
//   MYCLI_ISSUER, MYCLI_CLIENT_ID, MYCLI_STORAGE (auto|keychain|file|memory), MYCLI_ALLOW_INSECURE=1 (http issuers)
import { CliAuth, CliAuthError, type LoginFlow } from "../mod.ts";

const USAGE = `Usage: my-cli <command> [flags]

Commands:
  login    Sign in (--flow auto|browser|device|manual, --no-browser)
  logout   Sign out and revoke the session (--no-revoke to only forget it here)
  whoami   Show who you are, asked fresh from the server (--json)
  status   Show the stored login, without network (--json)
  token    Print a valid access token

Flags:
  --profile <name>   Use another account (default "default")
  --token <token>    Use this token instead of the stored login (also MYCLI_TOKEN)
`;

interface Runtime {
  args: string[];
  env(name: string): string | undefined;
  exit(code: number): never;
  onInterrupt(handler: () => void): void;
}

function runtime(): Runtime {
  const g = globalThis as unknown as {
    Deno?: { args: string[]; env: { get(n: string): string | undefined }; exit(c: number): never; addSignalListener(s: string, h: () => void): void };
    process: { argv: string[]; env: Record<string, string | undefined>; exit(c: number): never; on(s: string, h: () => void): void };
  };
  if (g.Deno) {
    const deno = g.Deno;
    return {
      args: deno.args,
      env: (name) => deno.env.get(name),
      exit: (code) => deno.exit(code),
      onInterrupt: (handler) => deno.addSignalListener("SIGINT", handler),
    };
  }
  const process = g.process;
  return {
    args: process.argv.slice(2),
    env: (name) => process.env[name],
    exit: (code) => process.exit(code),
    onInterrupt: (handler) => process.on("SIGINT", handler),
  };
}

interface Parsed {
  command?: string;
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(["profile", "token", "flow"]);
const BOOLEAN_FLAGS = new Set(["json", "no-browser", "no-revoke", "help"]);

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
      const flow = (flag("flow") ?? "auto") as LoginFlow;
      if (!["auto", "browser", "device", "manual"].includes(flow)) {
        console.error(`my-cli: --flow must be auto, browser, device or manual\n\n${USAGE}`);
        return 2;
      }
      const controller = new AbortController();
      rt.onInterrupt(() => controller.abort());
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
      if (flags.has("json")) console.log(JSON.stringify(user, null, 2));
      else console.log(`${user.email ?? user.sub}${user.name && user.name !== user.email ? ` (${user.name})` : ""}`);
      return 0;
    }
    case "status": {
      const status = await auth.status();
      if (flags.has("json")) {
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
      const { token } = await auth.resolveToken({ tokenFromArg: flag("token") });
      console.log(token);
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
      console.error(`error: ${error.message} (${error.code})`);
      if (error.hint) console.error(`hint: ${error.hint}`);
      rt.exit(error.code === "login_cancelled" ? 130 : 1);
    }
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    rt.exit(1);
  },
);
