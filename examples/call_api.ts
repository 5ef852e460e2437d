// Prerequisites: a CLI already signed in with `resource` set to your API (see my_cli.ts), and an API that accepts
// the access tokens your authorization server issues for that resource (see server_api.ts).
//
// "Call your API as the user": auth.fetch sends the token (Bearer, or DPoP with a proof), refreshes once and retries
// once if the API answers 401 invalid_token, and refuses to send the token to any other origin.
import { CliAuth, CliAuthError } from "../mod.ts";

const auth = new CliAuth({
  issuer: "https://auth.example.com",
  clientId: "my-cli",
  service: "my-cli",
  resource: "https://api.example.com/",
});

try {
  const response = await auth.fetch("https://api.example.com/projects", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`The API answered ${response.status}`);
  for (const project of (await response.json()) as { name: string }[]) console.log(project.name);
} catch (error) {
  if (!(error instanceof CliAuthError)) throw error;
  // not_logged_in / session_expired: "Run `my-cli login`"; insufficient_scope: log in again with error.scopes.
  console.error(`${error.message}${error.hint ? `\n${error.hint}` : ""}`);
}
