// parseAuthorizationHeader(): RFC 6750 §2.1 credentials, and which failures carry an error code.
import { describe, expect, it } from "vitest";
import type { CliAuthError } from "../../server/mod.ts";
import { parseAuthorizationHeader } from "../../server/_authorization_header.ts";
import { throws } from "../support/reject.ts";

function failure(header: string | null): CliAuthError {
  const error = throws(() => parseAuthorizationHeader(header));
  expect(error.code, String(header)).toBe("invalid_token");
  expect(error.status, String(header)).toBe(401);
  return error;
}

describe("parseAuthorizationHeader()", () => {
  it("reads Bearer tokens, the scheme in any case", () => {
    expect(parseAuthorizationHeader("Bearer abc.DEF-_~+/123==")).toEqual({ scheme: "Bearer", token: "abc.DEF-_~+/123==" });
    expect(parseAuthorizationHeader("bearer abc")).toEqual({ scheme: "Bearer", token: "abc" });
    expect(parseAuthorizationHeader("BEARER   abc  ")).toEqual({ scheme: "Bearer", token: "abc" });
    expect(parseAuthorizationHeader("DPoP abc")).toEqual({ scheme: "DPoP", token: "abc" });
  });

  it("treats no header and other schemes as missing credentials (no error code, RFC 6750 §3.1)", () => {
    for (const header of [null, "", "   ", "Basic YWxpY2U6c2VjcmV0", "Token abc", "Bearerabc"]) {
      const error = failure(header);
      expect(error.error, String(header)).toBeUndefined();
    }
  });

  it("refuses malformed credentials with error invalid_token", () => {
    for (const header of ["Bearer", "Bearer ", "Bearer a b", "Bearer a,b", "Bearer ä", "Bearer =abc", "Bearer a=b", "Bearer, x", "(Bearer) x"]) {
      const error = failure(header);
      expect(error.error, header).toBe("invalid_token");
      expect(error.errorDescription, header).toBeTruthy();
    }
  });

  it("refuses tokens longer than 16 KiB", () => {
    expect(parseAuthorizationHeader(`Bearer ${"a".repeat(16 * 1024)}`).token).toHaveLength(16 * 1024);
    expect(failure(`Bearer ${"a".repeat(16 * 1024 + 1)}`).errorDescription).toMatch(/too long/);
  });
});
