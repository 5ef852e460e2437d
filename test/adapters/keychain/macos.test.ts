// macosKeychainStore() with `/usr/bin/security` faked (test/support/fake_security.ts follows Apple's sources for
// `security -i` line handling and the `password:` output format).
import { describe, expect, it } from "vitest";
import {
  macosKeychainStore,
  parseSecurityPassword,
  quoteSecurityArgument,
  SECURITY_MAX_LINE,
} from "../../../adapters/keychain/macos.ts";
import { fakeSecurity, splitLine } from "../../support/fake_security.ts";
import { rejection } from "../../support/reject.ts";

const SECRET = "rt-s3cr3t-ünïcode-\"quoted\"-\\backslash";
const hex = (text: string) => Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");

function allArgs(fake: ReturnType<typeof fakeSecurity>): string[] {
  return fake.calls.flatMap((call) => call.args);
}

describe("macosKeychainStore()", () => {
  it("writes with `security -i` reading add-generic-password -U … -X <hex> from stdin", async () => {
    const fake = fakeSecurity();
    const store = macosKeychainStore({ service: "my-cli", runner: fake.runner, timeoutMs: 4_321 });
    await store.set("work", SECRET);
    expect(fake.calls).toEqual([
      {
        command: "/usr/bin/security",
        args: ["find-generic-password", "-g", "-s", "my-cli", "-a", "work"],
        options: { timeoutMs: 4_321, env: undefined },
      },
      {
        command: "/usr/bin/security",
        args: ["-i"],
        options: {
          stdin: `add-generic-password -U -s "my-cli" -a "work" -X ${hex(SECRET)}\n`,
          timeoutMs: 4_321,
          env: undefined,
        },
      },
    ]);
    expect(allArgs(fake).filter((arg) => arg.includes("s3cr3t"))).toEqual([]);
    expect(fake.calls[1]!.options?.stdin).not.toContain("s3cr3t");
  });

  it("reads with `find-generic-password -g` and decodes both output forms", async () => {
    const fake = fakeSecurity();
    const store = macosKeychainStore({ service: "my-cli", runner: fake.runner });
    const values = [
      '{"accessToken":"plain ascii with \\"quotes\\""}', // printed as "text"
      SECRET, // non-ASCII and backslash: printed as 0x… "…"
      "東京", // no printable byte: printed as 0x… alone
      "c3a9", // text that looks like hex
      "line\nbreak",
      "",
    ];
    for (const [i, value] of values.entries()) {
      await store.set(`p${i}`, value);
      expect(await store.get(`p${i}`)).toBe(value);
    }
    expect(await store.get("missing")).toBeNull();
  });

  it("updates in place and deletes with delete-generic-password", async () => {
    const fake = fakeSecurity();
    const store = macosKeychainStore({ service: "my-cli", runner: fake.runner });
    await store.set("default", "one");
    await store.set("default", "two");
    expect(await store.get("default")).toBe("two");
    expect(fake.items.size).toBe(1);
    fake.calls.length = 0;
    await store.delete("default");
    expect(fake.calls.map((c) => c.args)).toEqual([
      ["find-generic-password", "-g", "-s", "my-cli", "-a", "default"],
      ["delete-generic-password", "-s", "my-cli", "-a", "default"],
    ]);
    expect(await store.get("default")).toBeNull();
    await store.delete("default");
  });

  it("splits values that do not fit one 4,095-byte command line, and cleans up old parts", async () => {
    const fake = fakeSecurity();
    const store = macosKeychainStore({ service: "my-cli", runner: fake.runner });
    const big = JSON.stringify({ idToken: "e".repeat(9_000), name: "Zoë" });
    await store.set("default", big);
    expect(await store.get("default")).toBe(big);
    const lines = fake.calls.flatMap((c) => (c.options?.stdin ?? "").split("\n")).filter(Boolean);
    expect(lines.length).toBe(6); // five parts, then the manifest
    for (const line of lines) expect(new TextEncoder().encode(line).length).toBeLessThanOrEqual(SECURITY_MAX_LINE);
    expect(fake.items.size).toBe(6);
    await store.set("default", "small now");
    expect(await store.get("default")).toBe("small now");
    expect(fake.items.size).toBe(1);
  });

  it("quotes service and profile names for security's line splitter", async () => {
    const fake = fakeSecurity();
    const store = macosKeychainStore({ service: 'my "cli"', runner: fake.runner });
    await store.set('it\'s a "profile" \\ with spaces', "v");
    const line = fake.calls.at(-1)!.options!.stdin!.trimEnd();
    expect(splitLine(line).slice(0, 6)).toEqual([
      "add-generic-password",
      "-U",
      "-s",
      'my "cli"',
      "-a",
      'it\'s a "profile" \\ with spaces',
    ]);
    expect(await store.get('it\'s a "profile" \\ with spaces')).toBe("v");
    expect(quoteSecurityArgument('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it("maps failures to storage_unavailable without copying security's output", async () => {
    const fake = fakeSecurity();
    const store = macosKeychainStore({ service: "my-cli", runner: fake.runner, timeoutMs: 900 });

    fake.failWith = { code: 36, stderr: "security: SecKeychainItemCopyContent: User interaction is not allowed. ECHO" };
    const locked = await rejection(store.get("default"));
    expect(locked.code).toBe("storage_unavailable");
    expect(locked.message).toBe(
      'Cannot read credentials for profile "default": the keychain is locked and cannot ask to be unlocked here',
    );
    expect(locked.hint).toContain("security unlock-keychain");
    expect(locked.message + locked.hint).not.toContain("ECHO");

    fake.failWith = { code: 200, stderr: `password: "${SECRET}"` };
    const odd = await rejection(store.get("default"));
    expect(odd.message).toBe('Cannot read credentials for profile "default": security failed with exit code 200');
    expect(JSON.stringify(odd.toJSON())).not.toContain("s3cr3t");

    fake.failWith = undefined;
    fake.runnerError = "not_found";
    const missing = await rejection(store.set("default", SECRET));
    expect(missing.message).toBe('Cannot store credentials for profile "default": security is not installed');

    fake.runnerError = "timeout";
    const slow = await rejection(store.delete("default"));
    expect(slow.message).toBe('Cannot delete credentials for profile "default": security did not finish within 900 ms');
  });

  it("notices a failed add in the middle of a `security -i` batch", async () => {
    const fake = fakeSecurity();
    const store = macosKeychainStore({
      service: "my-cli",
      runner: async (command, args, options) => {
        const result = await fake.runner(command, args, options);
        // As if the first of several adds had failed but the last succeeded: exit 0, a "returned" line.
        return args[0] === "-i" ? { ...result, stderr: "add-generic-password: returned 51\n" } : result;
      },
    });
    const error = await rejection(store.set("default", "z".repeat(5_000)));
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toBe('Cannot store credentials for profile "default": security failed with exit code 1');
  });

  it("probe() adds and deletes a throwaway item under its own service", async () => {
    const fake = fakeSecurity();
    const store = macosKeychainStore({ service: "my-cli", runner: fake.runner });
    await store.probe();
    expect(fake.calls.map((c) => [c.args, c.options?.stdin])).toEqual([
      [["-i"], `add-generic-password -U -s "cli-auth-probe" -a "my-cli" -X ${hex("probe")}\n`],
      [["delete-generic-password", "-s", "cli-auth-probe", "-a", "my-cli"], undefined],
    ]);
    expect(fake.items.size).toBe(0);
    fake.failWith = { code: 36, stderr: "User interaction is not allowed." };
    const error = await rejection(store.probe());
    expect(error.message).toBe("Cannot use the keychain: the keychain is locked and cannot ask to be unlocked here");
  });
});

describe("parseSecurityPassword()", () => {
  it("reads the text form, the hex form and the empty password", () => {
    expect(parseSecurityPassword('keychain: "x"\npassword: "a "b" c"\n')).toBe('a "b" c');
    expect(parseSecurityPassword('password: 0x633361390A  "c3a9\\012"\n')).toBe("c3a9\n");
    expect(parseSecurityPassword("password: 0xE69DB1E4BAAC \n")).toBe("東京");
    expect(parseSecurityPassword("password: \n")).toBe("");
    expect(parseSecurityPassword("nothing here\n")).toBeUndefined();
    expect(parseSecurityPassword("password: 0xFF \n")).toBeUndefined(); // not UTF-8
  });
});
