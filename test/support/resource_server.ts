// A resource server (the user's API) on loopback for the tests, built on this library's own verifier: it announces
// its protected-resource metadata, verifies tokens on /api/*, and can be told to start refusing them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  createDpopNonceSource,
  createVerifier,
  identityHandler,
  resourceMetadataHandler,
  resourceMetadataUrl,
  unauthorizedResponse,
  type Verifier,
} from "../../server/mod.ts";

export interface ResourceServer {
  /** The resource identifier (`http://127.0.0.1:<port>/`). */
  resource: string;
  origin: string;
  port: number;
  /** Requests seen on /api/* with their Authorization and DPoP headers. */
  seen: { path: string; authorization?: string; dpop?: string }[];
  /** Answer the next `count` /api requests with 401 invalid_token, whatever the token. */
  rejectNext(count: number): void;
  /** Point the verifier at the issuer (known only once the provider started with this resource). */
  trust(issuer: string): void;
  close(): Promise<void>;
}

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = chunks.length && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined;
  return new Request(new URL(req.url ?? "/", origin), { method: req.method, headers, body });
}

async function send(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key] = value));
  res.writeHead(response.status, headers);
  res.end(Buffer.from(await response.arrayBuffer()));
}

export interface ResourceServerOptions {
  /** Demand DPoP server nonces (RFC 9449 §9) from clients. */
  dpopNonce?: boolean;
  /**
   * What `/api/step-up` demands of the sign-in behind a token (RFC 9470; the verifier's per-call `acrValues` and
   * `maxAge`): a token that falls short is answered `401` with the step-up challenge. Default: `acrValues`
   * `["urn:test:mfa"]`.
   */
  stepUp?: { acrValues?: string[]; maxAge?: number };
}

export async function startResourceServer(options: ResourceServerOptions = {}): Promise<ResourceServer> {
  let verifier: Verifier | undefined;
  let identity: ((request: Request) => Promise<Response>) | undefined;
  let metadata: ((request: Request) => Response) | undefined;
  let issuer = "";
  let rejections = 0;
  const seen: ResourceServer["seen"] = [];
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;
  const resource = `${origin}/`;
  const metadataUrl = resourceMetadataUrl(resource);
  const challenge = (error: string, extra = "") =>
    new Response(JSON.stringify({ error }), {
      status: error === "insufficient_scope" ? 403 : 401,
      headers: {
        "content-type": "application/json",
        "www-authenticate": `Bearer error="${error}"${extra}, resource_metadata="${metadataUrl}"`,
      },
    });

  server.on("request", async (req, res) => {
    const request = await toRequest(req, origin);
    const path = new URL(request.url).pathname;
    let response: Response;
    if (path === new URL(metadataUrl).pathname) {
      response = metadata!(request);
    } else if (path.startsWith("/api/")) {
      seen.push({
        path,
        authorization: request.headers.get("authorization") ?? undefined,
        dpop: request.headers.get("dpop") ?? undefined,
      });
      if (rejections > 0) {
        rejections--;
        response = challenge("invalid_token", ', error_description="the token was revoked"');
      } else if (path === "/api/me") {
        response = await identity!(request);
      } else if (path === "/api/admin") {
        try {
          await verifier!.verifyRequest(request, { scopes: ["api:read", "admin"] });
          response = Response.json({ ok: true });
        } catch (error) {
          response = unauthorizedResponse(error, { resourceMetadata: metadataUrl });
        }
      } else if (path === "/api/step-up") {
        try {
          const token = await verifier!.verifyRequest(request, options.stepUp ?? { acrValues: ["urn:test:mfa"] });
          response = Response.json({ subject: token.subject, acr: token.claims.acr, auth_time: token.claims.auth_time });
        } catch (error) {
          response = unauthorizedResponse(error, { resourceMetadata: metadataUrl });
        }
      } else if (path === "/api/echo") {
        try {
          const token = await verifier!.verifyRequest(request);
          response = Response.json({ subject: token.subject, method: request.method, body: await request.text() });
        } catch (error) {
          response = unauthorizedResponse(error, { resourceMetadata: metadataUrl });
        }
      } else if (path === "/api/moved") {
        response = new Response(null, { status: 307, headers: { location: "/api/me" } });
      } else {
        response = new Response("not found", { status: 404 });
      }
    } else if (path === "/") {
      response = new Response(null, {
        status: 401,
        headers: { "www-authenticate": `Bearer resource_metadata="${metadataUrl}"` },
      });
    } else {
      response = new Response("not found", { status: 404 });
    }
    await send(response, res);
  });

  return {
    resource,
    origin,
    port,
    seen,
    rejectNext(count) {
      rejections = count;
    },
    trust(value) {
      issuer = value;
      verifier = createVerifier({
        issuer,
        audience: resource,
        http: { allowInsecureRequests: true },
        dpop: options.dpopNonce ? { nonce: createDpopNonceSource() } : {},
      });
      identity = identityHandler(verifier, { resourceMetadata: metadataUrl });
      metadata = resourceMetadataHandler({ resource, authorizationServers: [issuer], scopesSupported: ["api:read", "api:write"] });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
