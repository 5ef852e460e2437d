// Prerequisites: Deno (or adapt the last line to Bun.serve, node:http via an adapter, Hono, a Next route handler or
// a Worker: the handlers are plain `(request: Request) => Promise<Response>`).
//
// The API side: verify the CLI's tokens (JWT access tokens against the issuer's keys, opaque ones by introspection,
// personal access tokens for CI by their hash), answer the CLI's `identityEndpoint`, and publish RFC 9728 metadata.
import { createVerifier, hashPersonalAccessToken, identityHandler } from "../server/mod.ts";

const issuer = "https://auth.example.com";
const resource = "https://api.example.com/";
const patHashes = new Map<string, { subject: string; scopes: string[] }>(); // your database

const verifier = createVerifier({
  issuer,
  audience: resource,
  personalAccessTokens: {
    prefix: "myapi",
    lookup: (hash) => Promise.resolve(patHashes.get(hash)),
  },
});
const me = identityHandler(verifier, { resourceMetadata: `${resource}.well-known/oauth-protected-resource` });

export async function handle(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (pathname === "/.well-known/oauth-protected-resource") {
    return Response.json({ resource, authorization_servers: [issuer], scopes_supported: ["api:read", "api:write"] });
  }
  if (pathname === "/me") return await me(request);
  if (pathname === "/projects") {
    try {
      const token = await verifier.verifyRequest(request, { scopes: ["api:read"] });
      return Response.json([{ name: `${token.subject}'s first project` }]);
    } catch {
      return new Response(null, { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
    }
  }
  return new Response("Not found", { status: 404 });
}

// Issue a personal access token for CI (show it once, store only the hash):
export async function issueToken(subject: string): Promise<string> {
  const { createPersonalAccessToken } = await import("../server/mod.ts");
  const { token, hash } = await createPersonalAccessToken({ prefix: "myapi" });
  patHashes.set(hash, { subject, scopes: ["api:read"] });
  console.assert(hash === (await hashPersonalAccessToken(token)));
  return token;
}
