// Which proxy a request goes through: the `proxy` option, HTTPS_PROXY / HTTP_PROXY, NO_PROXY by curl's rules (and
// the common extensions: host:port, `*.` prefixes, CIDR), and loopback never proxied. Pure: the environment is a map.
import { describe, expect, it } from "vitest";
import { isCliAuthError } from "../../src/common/errors.ts";
import { isLoopbackHost, matchesNoProxy, proxyForUrl } from "../../src/transport/proxy_env.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];
const proxyOf = (url: string, vars: Record<string, string>, proxy?: string | false) =>
  proxyForUrl(new URL(url), { proxy, env: envOf(vars) })?.href;

describe("proxyForUrl()", () => {
  it("connects directly when nothing names a proxy", () => {
    expect(proxyOf("https://idp.example/", {})).toBeUndefined();
  });

  it("reads HTTPS_PROXY for https URLs and HTTP_PROXY for http URLs, never the other", () => {
    const vars = { HTTPS_PROXY: "http://secure.proxy:3128", HTTP_PROXY: "http://plain.proxy:3128" };
    expect(proxyOf("https://idp.example/", vars)).toBe("http://secure.proxy:3128/");
    expect(proxyOf("http://idp.example/", vars)).toBe("http://plain.proxy:3128/");
    expect(proxyOf("https://idp.example/", { HTTP_PROXY: "http://plain.proxy:3128" })).toBeUndefined();
    expect(proxyOf("http://idp.example/", { HTTPS_PROXY: "http://secure.proxy:3128" })).toBeUndefined();
  });

  it("prefers the lower-case variable, as curl does, and skips empty values", () => {
    expect(proxyOf("https://idp.example/", { https_proxy: "http://lower:1", HTTPS_PROXY: "http://upper:2" })).toBe("http://lower:1/");
    expect(proxyOf("http://idp.example/", { http_proxy: "http://lower:1", HTTP_PROXY: "http://upper:2" })).toBe("http://lower:1/");
    expect(proxyOf("https://idp.example/", { https_proxy: " ", HTTPS_PROXY: "http://upper:2" })).toBe("http://upper:2/");
    expect(proxyOf("https://idp.example/", { HTTPS_PROXY: "" })).toBeUndefined();
  });

  it("takes the `proxy` option over the environment, for both schemes", () => {
    const vars = { HTTPS_PROXY: "http://env.proxy:1" };
    expect(proxyOf("https://idp.example/", vars, "http://option.proxy:8080")).toBe("http://option.proxy:8080/");
    expect(proxyOf("http://idp.example/", {}, "http://option.proxy:8080")).toBe("http://option.proxy:8080/");
  });

  it("turns proxies off with `proxy: false`, whatever the environment says", () => {
    expect(proxyOf("https://idp.example/", { HTTPS_PROXY: "http://env.proxy:1", https_proxy: "http://env.proxy:1" }, false))
      .toBeUndefined();
  });

  it("never proxies loopback, not even with the option", () => {
    const vars = { HTTPS_PROXY: "http://env.proxy:1", HTTP_PROXY: "http://env.proxy:1" };
    for (const url of ["http://127.0.0.1:8080/", "https://127.9.8.7/", "http://[::1]:3000/", "http://localhost/", "https://LOCALHOST./", "http://app.localhost/"]) {
      expect(proxyOf(url, vars), url).toBeUndefined();
      expect(proxyOf(url, {}, "http://option.proxy:8080"), url).toBeUndefined();
    }
  });

  it("lets NO_PROXY (or no_proxy, preferred) exempt hosts from the option's proxy too", () => {
    expect(proxyOf("https://sso.corp/", { HTTPS_PROXY: "http://p:1", NO_PROXY: "corp" })).toBeUndefined();
    expect(proxyOf("https://sso.corp/", { NO_PROXY: "corp" }, "http://option.proxy:8080")).toBeUndefined();
    expect(proxyOf("https://sso.corp/", { HTTPS_PROXY: "http://p:1", no_proxy: "other", NO_PROXY: "corp" })).toBe("http://p:1/");
    expect(proxyOf("https://idp.example/", { HTTPS_PROXY: "http://p:1", NO_PROXY: "corp" })).toBe("http://p:1/");
  });

  it("accepts host:port (as http://), https proxies and credentials, kept for the transport", () => {
    expect(proxyOf("https://idp.example/", { HTTPS_PROXY: "proxy.corp:3128" })).toBe("http://proxy.corp:3128/");
    expect(proxyOf("https://idp.example/", { HTTPS_PROXY: "https://proxy.corp:443" })).toBe("https://proxy.corp/");
    const proxy = proxyForUrl(new URL("https://idp.example/"), { env: envOf({ HTTPS_PROXY: "http://me:p%40ss@proxy.corp:3128" }) });
    expect([proxy?.username, proxy?.password, proxy?.host]).toEqual(["me", "p%40ss", "proxy.corp:3128"]);
  });

  it("refuses a proxy that is no http(s) URL with invalid_options naming where it came from, never the value", () => {
    const cases: [Record<string, string>, string | undefined, RegExp][] = [
      [{ HTTPS_PROXY: "socks5://me:s3cret-socks@proxy:1080" }, undefined, /HTTPS_PROXY uses socks5:/],
      [{ https_proxy: "http://me:s3cret-socks@" }, undefined, /https_proxy is not a valid URL/],
      [{}, "ftp://me:s3cret-socks@proxy", /the `proxy` option uses ftp:/],
      [{}, "http://me:s3cret-socks@pro xy:1", /the `proxy` option is not a valid URL/],
    ];
    for (const [vars, option, message] of cases) {
      let error: unknown;
      try {
        proxyOf("https://idp.example/", vars, option);
      } catch (e) {
        error = e;
      }
      expect(isCliAuthError(error, "invalid_options"), String(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect(JSON.stringify(error)).not.toContain("s3cret-socks");
    }
  });

  it("connects directly for schemes that have no proxy variable", () => {
    expect(proxyOf("ftp://files.example/", { HTTPS_PROXY: "http://p:1", HTTP_PROXY: "http://p:1" })).toBeUndefined();
  });
});

describe("matchesNoProxy()", () => {
  const cases: [noProxy: string, url: string, matches: boolean][] = [
    // Names: the host and its subdomains, never a longer name that merely ends alike.
    ["example.com", "https://example.com/", true],
    ["example.com", "https://www.example.com/", true],
    ["example.com", "https://a.b.example.com/", true],
    ["example.com", "https://notexample.com/", false],
    ["example.com", "https://example.com.evil/", false],
    ["st", "https://idp.test/", false],
    ["www.example.com", "https://example.com/", false],
    // A leading `.` or `*.` means the same (curl strips the dot); trailing dots are ignored; case does not matter.
    [".example.com", "https://example.com/", true],
    [".example.com", "https://a.example.com/", true],
    ["*.example.com", "https://a.example.com/", true],
    ["*.example.com", "https://example.com/", true],
    ["EXAMPLE.com", "https://Example.COM/", true],
    ["example.com.", "https://example.com/", true],
    ["example.com", "https://example.com./", true],
    // `*` alone, or as one entry among others.
    ["*", "https://anything.example/", true],
    ["other.example, *", "https://anything.example/", true],
    ["*example.com", "https://example.com/", false],
    // Lists: commas and blanks, empty entries ignored.
    ["a.example, b.example  example.com", "https://example.com/", true],
    [",,example.com,,", "https://example.com/", true],
    ["a.example\tb.example", "https://b.example/", true],
    ["", "https://example.com/", false],
    [" , ", "https://example.com/", false],
    // host:port: only that port (the scheme's default when the URL names none).
    ["example.com:443", "https://example.com/", true],
    ["example.com:8443", "https://example.com/", false],
    ["example.com:8443", "https://example.com:8443/", true],
    ["example.com:80", "http://example.com/", true],
    ["example.com:443", "http://example.com/", false],
    // IPv4: exact, CIDR; names are not resolved, so an address entry never matches a name.
    ["192.168.1.7", "https://192.168.1.7/", true],
    ["192.168.1.7", "https://192.168.1.8/", false],
    ["192.168.1.7:8080", "http://192.168.1.7:8080/", true],
    ["192.168.1.7:8080", "http://192.168.1.7:8081/", false],
    ["10.0.0.0/8", "https://10.200.3.4/", true],
    ["10.0.0.0/8", "https://11.0.0.1/", false],
    ["172.16.0.0/12", "https://172.31.255.255/", true],
    ["172.16.0.0/12", "https://172.32.0.1/", false],
    ["0.0.0.0/0", "https://8.8.8.8/", true],
    ["10.0.0.0/8", "https://ten.example/", false],
    ["example.com", "https://10.0.0.1/", false],
    ["10.0.0.0/33", "https://10.0.0.1/", false],
    ["10.0.0.0/x", "https://10.0.0.1/", false],
    ["10.0.0.0/", "https://10.0.0.1/", false],
    // IPv6: bare or bracketed, any spelling, CIDR, with a port when bracketed.
    ["fd00::1", "https://[fd00:0:0::1]/", true],
    ["[fd00::1]", "https://[fd00::1]/", true],
    ["fd00:0:0:0:0:0:0:1", "https://[fd00::1]/", true],
    ["fd00::1", "https://[fd00::2]/", false],
    ["fd00::/8", "https://[fd12:3456::1]/", true],
    ["fd00::/8", "https://[fe80::1]/", false],
    ["[fd00::1]:8443", "https://[fd00::1]:8443/", true],
    ["[fd00::1]:8443", "https://[fd00::1]/", false],
    ["::ffff:10.0.0.1", "https://[::ffff:a00:1]/", true],
    ["10.0.0.1", "https://[::ffff:a00:1]/", false],
  ];
  for (const [noProxy, url, matches] of cases) {
    it(`${JSON.stringify(noProxy)} ${matches ? "exempts" : "does not exempt"} ${url}`, () => {
      expect(matchesNoProxy(new URL(url), noProxy)).toBe(matches);
    });
  }
});

describe("isLoopbackHost()", () => {
  it("knows localhost, *.localhost, 127.0.0.0/8, ::1 and IPv4-mapped 127.x", () => {
    for (const host of ["localhost", "LOCALHOST", "localhost.", "app.localhost", "127.0.0.1", "127.255.255.254", "[::1]", "::1", "0:0:0:0:0:0:0:1", "[::ffff:7f00:1]", "::ffff:127.0.0.1"]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
  });

  it("knows nothing else", () => {
    for (const host of ["128.0.0.1", "10.0.0.1", "0.0.0.0", "[::2]", "[::]", "localhost.example", "notlocalhost", "::ffff:10.0.0.1", "127.0.0.1.nip.io", "idp.test"]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});
