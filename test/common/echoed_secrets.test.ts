// Redacting what a server quotes back from a request: the rule for long and short secrets, the forms a secret is
// quoted in, and the text withheld when a secret is still there under an escape.
import { describe, expect, it } from "vitest";
import { redactSecrets, requestSecrets, WITHHELD } from "../../src/common/echoed_secrets.ts";

const LONG = "rt/LEAK+planted-0123456789";
const SHORT = "k9Q-x2";

describe("redactSecrets()", () => {
  it("redacts a secret of 8 characters or more wherever it occurs, even inside a word", () => {
    expect(redactSecrets(`token ${LONG}; again:${LONG}x`, [LONG])).toBe("token [redacted]; again:[redacted]x");
  });

  it("redacts a short secret where it stands as a word, and leaves words that merely contain it", () => {
    const text = `unknown code ${SHORT}; code=${SHORT}&state=s (${SHORT}). ${SHORT}b a${SHORT}`;
    expect(redactSecrets(text, [SHORT])).toBe(`unknown code [redacted]; code=[redacted]&state=s ([redacted]). ${SHORT}b a${SHORT}`);
    // An ordinary word as a short secret: only the word itself goes, never the words it is part of.
    expect(redactSecrets("the grant is not valid; the granted scopes stay", ["grant"])).toBe(
      "the [redacted] is not valid; the granted scopes stay",
    );
  });

  it("redacts the secret as sent, URL-encoded, form-encoded and JSON-escaped", () => {
    const text = `a ${LONG} b ${encodeURIComponent(LONG)} c ${LONG.replaceAll("/", "\\/")} d`;
    expect(redactSecrets(text, [LONG])).toBe("a [redacted] b [redacted] c [redacted] d");
    const spaced = "my secret value";
    expect(redactSecrets("got my+secret+value", [spaced])).toBe("got [redacted]");
  });

  it("withholds the whole text when the secret is still there under an escape (a server that quoted escaped JSON)", () => {
    const quoted = LONG.replace(/[A-Za-z]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    expect(redactSecrets(`request {"refresh_token":"${quoted}"}`, [LONG])).toBe(WITHHELD);
    expect(redactSecrets(`code=${SHORT.replace("-", "%2D")}`, [SHORT])).toBe(WITHHELD);
  });

  it("leaves text without secrets as it is, and ignores empty values", () => {
    expect(redactSecrets("invalid_grant: expired", [])).toBe("invalid_grant: expired");
    expect(redactSecrets("invalid_grant: expired", [""])).toBe("invalid_grant: expired");
  });
});

describe("requestSecrets()", () => {
  it("lists secret form parameters, the Authorization credentials, the Basic client secret and the DPoP proof", () => {
    const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: "rt-1", client_id: "cli", scope: "openid" });
    const basic = btoa(`cli:${encodeURIComponent("s3cr/t")}`);
    const secrets = requestSecrets({ body, headers: { authorization: `Basic ${basic}`, dpop: "eyJ.proof.sig" } });
    expect(secrets.sort()).toEqual([basic, "eyJ.proof.sig", "rt-1", "s3cr%2Ft", "s3cr/t"].sort());
    expect(requestSecrets({ body: "code=abc&code_verifier=v" }).sort()).toEqual(["abc", "v"]);
    expect(requestSecrets(undefined)).toEqual([]);
  });
});
