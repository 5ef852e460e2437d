// Prerequisites: a server that publishes RFC 9728 protected-resource metadata (as MCP servers do) naming an
// authorization server that allows dynamic client registration (RFC 7591).
//
// "Log in to a server you only know the URL of": no issuer, no client ID. The library reads the resource's
// metadata (from the `resource_metadata` of its 401 challenge, else /.well-known/oauth-protected-resource), discovers
// the authorization server it names, registers a native public client there once (kept in the store and reused by
// later logins), and asks for tokens for that resource (RFC 8707).
import { CliAuth } from "../mod.ts";

const resource = (globalThis as { process?: { argv: string[] } }).process?.argv[2] ?? "https://mcp.example.com/";
const auth = new CliAuth({ resource, service: "my-mcp-client" });

const { user, flow } = await auth.login();
console.error(`Signed in to ${resource} as ${user?.sub ?? "someone"} (${flow} flow)`);
const response = await auth.fetch(resource, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) });
console.log(response.status);
