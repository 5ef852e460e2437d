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
