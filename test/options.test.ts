// checkOptions() on client IDs that are URLs (Client ID Metadata Documents): such a client ID, and
// `clientMetadataUrl`, must be an https URL without a fragment or credentials, since the authorization server
// fetches the client's metadata from it. Other client IDs are opaque strings, as before.
import { describe, expect, it } from "vitest";
import { checkOptions } from "../src/options.ts";
import { throws } from "./support/reject.ts";

const base = { issuer: "https://auth.example.com", service: "my-cli" };
const resource = { resource: "https://api.example.com/", service: "my-cli" };

describe("a client ID that is a URL", () => {
  it("is accepted when https, without a fragment", () => {
    for (const clientId of ["https://cli.example.com/oauth/client.json", "https://cli.example.com:8443/c?v=1", "https://127.0.0.1:4443/cli.json"]) {
      expect(checkOptions({ ...base, clientId }).clientId).toBe(clientId);
    }
  });

  it("leaves client IDs that are not URLs alone", () => {
    for (const clientId of ["my-cli", "0oa1b2c3d4", "123-abc.apps.googleusercontent.com", "urn:example:cli"]) {
      expect(checkOptions({ ...base, clientId }).clientId).toBe(clientId);
    }
  });

  it("is refused (invalid_options) when http, even on loopback, with a fragment, or with credentials", () => {
    for (const clientId of [
      "http://cli.example.com/oauth/client.json",
      "http://localhost:8080/client.json",
      "http://127.0.0.1/client.json",
      "https://cli.example.com/oauth/client.json#main",
      "https://cli.example.com/oauth/client.json#",
      "https://user:secret@cli.example.com/client.json",
      "ftp://cli.example.com/client.json",
      "https://",
    ]) {
      const error = throws(() => checkOptions({ ...base, clientId }));
      expect(error.code, clientId).toBe("invalid_options");
      expect(error.message, clientId).toContain("`clientId`");
      expect(error.message).not.toContain("secret");
    }
  });
});

describe("a client ID that is a URL, as servers compare it (exactly, as sent)", () => {
  // The string is sent as it is given, and servers compare `client_id` byte for byte: it must already be the URL's
  // canonical form, with a path, without dot segments, whitespace, backslashes, fragment or credentials.
  const refused: [string, string][] = [
    ["https://cli.example.com", "path"],
    ["https://cli.example.com/", "path"],
    ["https://cli.example.com/a/../client.json", "dot segment"],
    ["https://cli.example.com/./client.json", "dot segment"],
    ["https://cli.example.com/%2e%2e/c.json", "dot segment"],
    ["https://cli.example.com/%2E/c.json", "dot segment"],
    ["https://cli.example.com/a/.%2e/c.json", "dot segment"],
    ["https://cli.example.com/client.json ", "canonical"],
    [" https://cli.example.com/c.json", "canonical"],
    ["https://cli.exa\tmple.com/c.json", "canonical"],
    ["https://cli.example.com/c.json\n", "canonical"],
    ["https://cli.example.com/a b.json", "canonical"],
    ["HTTPS://CLI.EXAMPLE.COM/c.json", "canonical"],
    ["https://CLI.example.com/c.json", "canonical"],
    ["https://cli.example.com\\c.json", "canonical"],
    ["https://cli.example.com:443/c.json", "canonical"],
    ["https://@cli.example.com/c.json", "user name or password"],
    ["https://:@cli.example.com/c.json", "user name or password"],
    ["https:/cli.example.com/c.json", "canonical"],
    ["https:cli.example.com/c.json", "canonical"],
    ["HTTPS:cli.example.com/c.json", "canonical"],
    ["http:cli.example.com/c.json", "https"],
    ["https://cli.example.com/c.json#", "fragment"],
    ["https://cli.example.com:0/c.json", "port"],
  ];

  it("is refused (invalid_options) unless canonical, with a path and no dot segment, naming the rule broken", () => {
    const optionsFor = (option: "clientId" | "clientMetadataUrl", value: string) =>
      option === "clientId" ? { ...base, clientId: value } : { ...resource, clientMetadataUrl: value };
    for (const option of ["clientId", "clientMetadataUrl"] as const) {
      const accepted = refused.filter(([value]) => {
        try {
          checkOptions(optionsFor(option, value));
          return true;
        } catch {
          return false;
        }
      });
      expect(accepted.map(([value]) => value), `accepted as ${option}`).toEqual([]);
    }
    for (const [value, rule] of refused) {
      for (const option of ["clientId", "clientMetadataUrl"] as const) {
        const options = optionsFor(option, value);
        const error = throws(() => checkOptions(options));
        expect(error.code, JSON.stringify(value)).toBe("invalid_options");
        expect(error.message, JSON.stringify(value)).toContain(`\`${option}\``);
        expect(error.message, JSON.stringify(value)).toContain(rule);
        expect(error.message, JSON.stringify(value)).not.toContain("cli.example");
      }
    }
  });

  it("is accepted as given when it already is a canonical https URL with a path", () => {
    for (const value of [
      "https://cli.example.com/oauth/client.json",
      "https://cli.example.com/c",
      "https://cli.example.com/.well-known/client.json",
      "https://cli.example.com/a..b/c.json",
      "https://cli.example.com/@scope/client.json",
      "https://cli.example.com:8443/c.json?v=1",
      "https://xn--cli-xyz.example.com/c.json",
    ]) {
      expect(checkOptions({ ...base, clientId: value }).clientId).toBe(value);
      expect(checkOptions({ ...resource, clientMetadataUrl: value }).clientMetadataUrl).toBe(value);
    }
  });
});

describe("clientMetadataUrl", () => {
  it("is kept for sign-in from a resource URL when https, without a fragment", () => {
    const url = "https://cli.example.com/oauth/client.json";
    expect(checkOptions({ ...resource, clientMetadataUrl: url }).clientMetadataUrl).toBe(url);
  });

  it("is refused (invalid_options) when not an https URL without a fragment", () => {
    for (const clientMetadataUrl of ["http://cli.example.com/c.json", "https://cli.example.com/c.json#x", "my-cli", ""]) {
      const error = throws(() => checkOptions({ ...resource, clientMetadataUrl }));
      expect(error.code, clientMetadataUrl).toBe("invalid_options");
      expect(error.message, clientMetadataUrl).toContain("`clientMetadataUrl`");
    }
  });
});
