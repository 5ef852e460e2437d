// windowsKeychainStore() with PowerShell faked (test/support/fake_powershell.ts answers the way the script does).
// The PowerShell/C# program itself needs Windows to run; here we check everything on our side of stdin/stdout.
import { describe, expect, it } from "vitest";
import {
  CREDENTIAL_BLOB_MAX_BYTES,
  type CredentialRequest,
  decodePowershellInput,
  parsePowershellResult,
  powershellInput,
  windowsKeychainStore,
} from "../../../adapters/keychain/windows.ts";
import { fakePowershell } from "../../support/fake_powershell.ts";
import { rejection } from "../../support/reject.ts";

const SECRET = "rt-s3cr3t-ünïcode-'quoted'-$(Get-Secret)";
const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
const requests = (fake: ReturnType<typeof fakePowershell>) =>
  fake.calls.map((call) => decodePowershellInput(call.options!.stdin!));

describe("windowsKeychainStore()", () => {
  it("runs powershell.exe -NoProfile -NonInteractive -Command - with the program on stdin, never the secret in argv", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({
      service: "my-cli",
      runner: fake.runner,
      timeoutMs: 5_555,
      env: { SystemRoot: "C:\\Windows" },
    });
    await store.set("work", SECRET);
    expect(fake.calls).toHaveLength(1);
    const call = fake.calls[0]!;
    expect(call.command).toBe("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe");
    expect(call.args).toEqual(["-NoProfile", "-NonInteractive", "-Command", "-"]);
    expect(call.options?.timeoutMs).toBe(5_555);
    const stdin = call.options!.stdin!;
    expect(stdin).toMatch(/^& \(\[ScriptBlock\]::Create\(\[Text\.Encoding\]::UTF8\.GetString\(\[Convert\]::FromBase64String\('[A-Za-z0-9+/=]+'\)\)\)\)\n$/);
    expect(stdin).not.toContain("s3cr3t");
    expect(decodePowershellInput(stdin)).toEqual({
      op: "set",
      target: "my-cli:work",
      user: "work",
      partPrefix: "my-cli:work:part:",
      writes: [{ target: "my-cli:work", data: b64(SECRET) }],
      keep: [],
    });
    const script = new TextDecoder().decode(
      Uint8Array.from(atob(/FromBase64String\('([^']+)'\)/.exec(stdin)![1]!), (c) => c.charCodeAt(0)),
    );
    for (const api of ["CredReadW", "CredWriteW", "CredDeleteW", "CredEnumerateW", "CRED_PERSIST_LOCAL_MACHINE"]) {
      expect(script).toContain(api);
    }
    expect(await store.get("work")).toBe(SECRET);
    expect(fake.credentials.get("my-cli:work")?.user).toBe("work");
  });

  it("round-trips unicode, the empty string and manifest-looking text; misses are null", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({ service: "my-cli", runner: fake.runner });
    for (const [i, value] of [JSON.stringify({ name: "Émilie 東京 🚀" }), "", "cli-auth:chunked:v1:x"].entries()) {
      await store.set(`p${i}`, value);
      expect(await store.get(`p${i}`)).toBe(value);
    }
    expect(await store.get("missing")).toBeNull();
  });

  it("splits values over 2,560 bytes into numbered parts in one PowerShell run, and reads them in one", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({ service: "my-cli", runner: fake.runner });
    const big = JSON.stringify({ idToken: "x".repeat(7_000), name: "Zoë" });
    await store.set("default", big);
    const [write] = requests(fake) as [Extract<CredentialRequest, { op: "set" }>];
    expect(write.writes).toHaveLength(4); // three parts, then the manifest
    for (const w of write.writes) expect(atob(w.data).length).toBeLessThanOrEqual(CREDENTIAL_BLOB_MAX_BYTES);
    const id = /^cli-auth:chunked:v1:([0-9a-f]{16}):3:/.exec(atob(write.writes[3]!.data))![1];
    expect(write.writes.slice(0, 3).map((w) => w.target)).toEqual([1, 2, 3].map((n) => `my-cli:default:part:${id}:${n}`));
    expect(write.writes[3]!.target).toBe("my-cli:default");
    expect(write.keep).toEqual(write.writes.slice(0, 3).map((w) => w.target));

    fake.calls.length = 0;
    expect(await store.get("default")).toBe(big);
    expect(requests(fake)).toEqual([{ op: "get", target: "my-cli:default", partPrefix: "my-cli:default:part:" }]);

    await store.set("default", "small");
    expect([...fake.credentials.keys()]).toEqual(["my-cli:default"]);
    await store.set("default", big);
    await store.delete("default");
    expect(fake.credentials.size).toBe(0);
  });

  it("accepts a single part printed as an object (PowerShell 5.1 unwrapping)", async () => {
    const fake = fakePowershell();
    fake.unwrapSingle = true;
    const store = windowsKeychainStore({ service: "s", runner: fake.runner });
    await store.set("default", ""); // an empty value is a manifest with no part…
    await store.set("other", "q".repeat(3_000)); // …and this one has two
    expect(await store.get("default")).toBe("");
    const single = "cli-auth:chunked:v1:looks-like-a-manifest"; // forced into one part
    await store.set("third", single);
    expect(await store.get("third")).toBe(single);
  });

  it("reports a missing part as storage_corrupt after re-reading", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({ service: "s", runner: fake.runner });
    await store.set("default", "w".repeat(6_000));
    const part = [...fake.credentials.keys()].find((k) => k.endsWith(":2"))!;
    fake.credentials.delete(part);
    fake.calls.length = 0;
    const error = await rejection(store.get("default"));
    expect(error.code).toBe("storage_corrupt");
    expect(error.message).toBe('Cannot read credentials for profile "default": a part of the credential is missing or was changed');
    expect(fake.calls).toHaveLength(2);
  });

  it("maps Win32 errors, a silent PowerShell and runner failures to storage_unavailable", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({ service: "my-cli", runner: fake.runner, timeoutMs: 30_000 });

    fake.failWith = 1312;
    const session = await rejection(store.get("default"));
    expect(session.code).toBe("storage_unavailable");
    expect(session.message).toBe(
      'Cannot read credentials for profile "default": Credential Manager is not available in this logon session (as over SSH with key authentication)',
    );
    const probe = await rejection(store.probe());
    expect(probe.message).toMatch(/^Cannot use the keychain: Credential Manager is not available/);

    fake.failWith = 0;
    expect((await rejection(store.set("default", SECRET))).message).toBe(
      'Cannot store credentials for profile "default": PowerShell could not run the Credential Manager script',
    );

    fake.failWith = undefined;
    fake.silent = true;
    const silent = await rejection(store.delete("default"));
    expect(silent.message).toBe('Cannot delete credentials for profile "default": PowerShell did not answer');
    expect(silent.message + silent.hint).not.toContain("echo");

    fake.silent = false;
    fake.runnerError = "not_found";
    expect((await rejection(store.get("default"))).message).toBe(
      'Cannot read credentials for profile "default": PowerShell is not installed',
    );
    fake.runnerError = "timeout";
    expect((await rejection(store.get("default"))).message).toBe(
      'Cannot read credentials for profile "default": PowerShell did not finish within 30000 ms',
    );
  });

  it("rejects `*` in names (Credential Manager filters use it) with invalid_options", async () => {
    const fake = fakePowershell();
    expect(() => windowsKeychainStore({ service: "a*b", runner: fake.runner })).toThrow(/not allowed on Windows/);
    const store = windowsKeychainStore({ service: "ok", runner: fake.runner });
    expect((await rejection(store.set("p*", "v"))).code).toBe("invalid_options");
    expect(fake.calls).toHaveLength(0);
  });

  it("uses powershell.exe from PATH when SystemRoot is unknown", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({ service: "s", runner: fake.runner, env: { SystemRoot: undefined } });
    await store.probe();
    expect(fake.calls[0]!.command).toBe("powershell.exe");
    expect(requests(fake)).toEqual([{ op: "probe", target: "cli-auth-probe:s", partPrefix: "cli-auth-probe:s:part:" }]);
  });
});

describe("parsePowershellResult()", () => {
  it("takes the last CLIAUTH: line and ignores anything else PowerShell printed", () => {
    const line = (value: unknown) => `CLIAUTH:${b64(JSON.stringify(value))}`;
    expect(parsePowershellResult(`noise\r\n${line({ ok: true, value: null })}\r\n`)).toEqual({ ok: true, value: null });
    expect(parsePowershellResult("no marker here")).toBeUndefined();
    expect(parsePowershellResult("CLIAUTH:not base64!")).toBeUndefined();
    expect(powershellInput({ op: "probe", target: "t", partPrefix: "t:part:" }).split("\n")).toHaveLength(2);
  });
});
