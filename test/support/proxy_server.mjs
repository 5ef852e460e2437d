// A real forward proxy for the corporate-network tests (the `proxy` npm package: CONNECT tunnels and plain HTTP),
// run as a Node child process so tests on Node, Bun and Deno all use the same one. It resolves the test's private
// host names itself (`idp.test` -> 127.0.0.1): nothing but this proxy can reach them, so a request that bypasses it
// fails. Configuration comes as JSON in argv[2]; the first line on stdout is {"port": N}; then one line per tunnel
// or proxied request: {"connect": "idp.test:4433"} / {"request": "http://idp.test:8080/x"}.
//
// Options: hosts (name -> address), credentials ("user:password": anything else is answered 407), refuse (a status
// every CONNECT is answered with, e.g. 403 or 502: a proxy that refuses the tunnel).
//
// Usage: node test/support/proxy_server.mjs '{"hosts": {"idp.test": "127.0.0.1"}}'
import { createServer } from "node:http";
import { createProxy } from "proxy";
import { exitWithParent, report } from "./json_line_server.mjs";

const { hosts = {}, credentials, refuse } = JSON.parse(process.argv[2] ?? "{}");


/** `host:port` with the host mapped (the proxy's own name resolution). */
function mapAuthority(authority) {
  const colon = authority.lastIndexOf(":");
  const host = authority.slice(0, colon).replace(/^\[|\]$/g, "");
  const mapped = hosts[host.toLowerCase()];
  return mapped ? `${mapped}:${authority.slice(colon + 1)}` : authority;
}

const server = createServer();
if (refuse) {
  server.on("connect", (req, socket) => {
    report({ connect: req.url, refused: refuse });
    socket.end(`HTTP/1.1 ${refuse} Refused by policy\r\ncontent-length: 0\r\n\r\n`);
  });
} else {
  const proxy = createProxy(server);
  // Called for every request before the proxy reads its target: checks the credentials, counts, maps the host.
  proxy.authenticate = (req) => {
    if (credentials !== undefined) {
      const [scheme = "", value = ""] = (req.headers["proxy-authorization"] ?? "").split(" ");
      const given = /^basic$/i.test(scheme) ? Buffer.from(value, "base64").toString("utf8") : "";
      if (given !== credentials) {
        report({ [req.method === "CONNECT" ? "connect" : "request"]: req.url, refused: 407 });
        return false;
      }
    }
    if (req.method === "CONNECT") {
      report({ connect: req.url });
      req.url = mapAuthority(req.url);
    } else {
      report({ request: req.url });
      const url = new URL(req.url);
      const mapped = hosts[url.hostname.toLowerCase()];
      if (mapped) {
        req.headers.host = url.host;
        url.hostname = mapped;
        req.url = url.href;
      }
    }
    return true;
  };
}

await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
report({ port: server.address().port });

exitWithParent([server], 300);
