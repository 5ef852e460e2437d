// A client's published metadata for Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a
// small HTTPS server on 127.0.0.1 with a test CA's certificate, run as a Node child process so that tests on Node,
// Bun and Deno use the same one. Configuration comes as JSON in argv[2]:
//   { keyFile, certFile, documents: { "/path": {…metadata} }, cacheControl?: "max-age=…" }
// Each document is served at https://127.0.0.1:<port><path> with `client_id` set to that URL unless it names one
// itself (to play a wrong document). The first line on stdout is {"origin": "https://127.0.0.1:N"}; then one line per
// request: {"get": "/path", "status": 200}.
//
// Usage: node test/support/client_metadata_server.mjs '{"keyFile": "…", "certFile": "…", "documents": {…}}'
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { exitWithParent, report } from "./json_line_server.mjs";

const { keyFile, certFile, documents = {}, cacheControl } = JSON.parse(process.argv[2] ?? "{}");


let origin = "";
const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
  const path = new URL(req.url ?? "/", origin).pathname;
  const document = Object.hasOwn(documents, path) ? documents[path] : undefined;
  const status = req.method !== "GET" ? 405 : document ? 200 : 404;
  report({ get: path, status });
  if (status !== 200) return res.writeHead(status).end();
  const body = JSON.stringify({ client_id: `${origin}${path}`, ...document });
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...(cacheControl ? { "cache-control": cacheControl } : {}),
  });
  res.end(body);
});

await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
origin = `https://127.0.0.1:${server.address().port}`;
report({ origin });

exitWithParent([server], 300);
