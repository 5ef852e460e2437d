// windowsKeychainStore() with PowerShell faked (test/support/fake_powershell.ts takes the constant program and the
// data line the way powershell.exe does, and runs the operations the way the program's C# half does). The program
// itself needs Windows to run; here we check everything on our side of stdin/stdout.
import { describe, expect, it } from "vitest";
import {
  CREDENTIAL_BLOB_MAX_BYTES,
  parsePowershellResult,
  POWERSHELL_SCRIPT,
  powershellInput,
  windowsKeychainStore,
} from "../../../adapters/keychain/windows.ts";
import { planWrite } from "../../../adapters/keychain/_chunks.ts";
import { fakePowershell } from "../../support/fake_powershell.ts";
import { rejection } from "../../support/reject.ts";

const SECRET = "rt-s3cr3t-ünïcode-'quoted'-$(Get-Secret)";
const hexOf = (text: string) => Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");

describe("windowsKeychainStore()", () => {
  it("runs powershell.exe -NoProfile -NonInteractive -Command - with the program, then the data, on stdin", async () => {
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
    const [script, data] = call.options!.stdin!.split("\n");
    expect(script).toBe(POWERSHELL_SCRIPT);
    expect(data).not.toContain("s3cr3t");
    expect(JSON.parse(data!.slice(1))).toEqual({
      ops: [
        { op: "write", target: "my-cli:work", user: "work", data: hexOf(SECRET) },
        { op: "prune", prefix: "my-cli:work:part:", keep: [], user: "work" },
      ],
    });
    for (const api of ["CredReadW", "CredWriteW", "CredDeleteW", "CredEnumerateW", "CRED_PERSIST_LOCAL_MACHINE"]) {
      expect(POWERSHELL_SCRIPT).toContain(api);
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
    expect(fake.requests).toHaveLength(1);
    const ops = fake.requests[0]!;
    const writes = ops.filter((op) => op.op === "write");
    expect(writes).toHaveLength(4); // three parts, then the manifest
    for (const w of writes) expect(w.data!.length / 2).toBeLessThanOrEqual(CREDENTIAL_BLOB_MAX_BYTES);
    const manifest = new TextDecoder().decode(Uint8Array.from(writes[3]!.data!.match(/../g)!, (h) => parseInt(h, 16)));
    const id = /^cli-auth:chunked:v1:([0-9a-f]{16}):3:/.exec(manifest)![1];
    expect(writes.slice(0, 3).map((w) => w.target)).toEqual([1, 2, 3].map((n) => `my-cli:default:part:${id}:${n}`));
    expect(writes[3]!.target).toBe("my-cli:default");
    expect(ops.slice(4)).toEqual([
      { op: "prune", prefix: "my-cli:default:part:", keep: writes.slice(0, 3).map((w) => w.target), user: "default" },
    ]);

    fake.requests.length = 0;
    expect(await store.get("default")).toBe(big);
    expect(fake.requests).toEqual([[
      { op: "read", target: "my-cli:default" },
      { op: "list", prefix: "my-cli:default:part:" },
    ]]);

    await store.set("default", "small");
    expect([...fake.credentials.keys()]).toEqual(["my-cli:default"]);
    await store.set("default", big);
    await store.delete("default");
    expect(fake.credentials.size).toBe(0);
  });

  it("round-trips a value with no part, one part and two parts", async () => {
    const fake = fakePowershell();
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

  it("refuses `*` and `:` in the service (Credential Manager filters and names), as every store does", () => {
    const fake = fakePowershell();
    for (const service of ["a*b", "a:b"]) {
      expect(() => windowsKeychainStore({ service, runner: fake.runner })).toThrow(/Invalid `service`/);
    }
    expect(fake.calls).toHaveLength(0);
  });

  it("uses powershell.exe from PATH when SystemRoot is unknown", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({ service: "s", runner: fake.runner, env: { SystemRoot: undefined } });
    await store.probe();
    expect(fake.calls[0]!.command).toBe("powershell.exe");
    expect(fake.requests).toEqual([[{ op: "read", target: "cli-auth-probe:s" }]]);
  });
});

describe("parsePowershellResult()", () => {
  it("takes the last CLIAUTH: line and ignores anything else PowerShell printed", () => {
    const line = (value: unknown) => `CLIAUTH:${JSON.stringify(value)}`;
    expect(parsePowershellResult(`noise\r\n${line({ ok: true, results: [null] })}\r\n`)).toEqual({ ok: true, results: [null] });
    expect(parsePowershellResult("no marker here")).toBeUndefined();
    expect(parsePowershellResult("CLIAUTH:not json!")).toBeUndefined();
    expect(parsePowershellResult(line({ ok: true }))).toBeUndefined(); // no results
    expect(powershellInput({ ops: [{ op: "read", target: "t" }] }).split("\n")).toHaveLength(3);
  });
});

// ---- Issue 15, item 1: what PowerShell compiles (and may log as event 4104) is one constant text ----

/** What PowerShell reads from `-Command -` as its command: stdin up to and with the first newline. */
const scriptOf = (stdin: string) => stdin.slice(0, stdin.indexOf("\n") + 1 || stdin.length);

const utf8 = (text: string) => new TextEncoder().encode(text);
const utf16le = (text: string) => {
  const bytes = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    bytes[2 * i] = text.charCodeAt(i) & 0xff;
    bytes[2 * i + 1] = text.charCodeAt(i) >> 8;
  }
  return bytes;
};
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const latin1 = (bytes: Uint8Array) => Array.from(bytes, (b) => String.fromCharCode(b)).join("");
/** The part of the base64 of `bytes` that is the same wherever they sit in a longer input (all three alignments). */
const base64Cores = (bytes: Uint8Array) =>
  [0, 1, 2].map((shift) => {
    const padded = new Uint8Array(shift + bytes.length);
    padded.set(bytes, shift);
    const text = btoa(latin1(padded));
    return text.slice(shift === 0 ? 0 : 4, text.length - 4);
  });

/** Every form a value could be carried in: as is, hex, UTF-16LE (raw and hex), base64 up to three levels deep. */
function forms(value: string): Map<string, string> {
  const found = new Map<string, string>([
    [value, "as is"],
    [encodeURIComponent(value), "URL-encoded"],
    [hex(utf8(value)), "hex"],
    [hex(utf8(value)).toUpperCase(), "HEX"],
    [latin1(utf16le(value)), "UTF-16LE"],
    [hex(utf16le(value)), "hex of UTF-16LE"],
  ]);
  let level = [...base64Cores(utf8(value)), ...base64Cores(utf16le(value))];
  for (const name of ["base64", "base64 of base64", "base64 of base64 of base64"]) {
    for (const core of level) if (core.length >= 8) found.set(core, name);
    level = level.flatMap((core) => [...base64Cores(utf8(core)), ...base64Cores(utf16le(core))]);
  }
  return found;
}

const randomHex = (bytes: number) => hex(crypto.getRandomValues(new Uint8Array(bytes)));

describe("windowsKeychainStore(): what PowerShell compiles never holds a secret or a name", () => {
  it("sends the same program text for every call; secrets, names and the operation come after it, as data", async () => {
    const fake = fakePowershell();
    const env = { SystemRoot: "C:\\Windows" };
    const one = windowsKeychainStore({ service: "svc-planted-one", runner: fake.runner, env });
    const two = windowsKeychainStore({ service: "Svc Planted Two", runner: fake.runner, env });
    const small = `rt-planted-${randomHex(24)}`;
    const large = JSON.stringify({ refreshToken: `rt-planted-${randomHex(24)}`, dpopKey: randomHex(2_000) });
    await one.set("profile-planted-a", small);
    await two.set("Profile Planted B", large); // split into parts
    expect(await one.get("profile-planted-a")).toBe(small);
    expect(await two.get("Profile Planted B")).toBe(large);
    await two.set("Profile Planted B", small); // the parts go
    await one.delete("profile-planted-a");
    await two.probe();
    expect(fake.calls).toHaveLength(7);

    const scripts = new Set(fake.calls.map((call) => scriptOf(call.options!.stdin!)));
    expect(scripts.size).toBe(1);
    for (const call of fake.calls) {
      expect(call.command).toBe("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe");
      expect(call.args).toEqual(["-NoProfile", "-NonInteractive", "-Command", "-"]);
    }
    const compiled = fake.calls.map((call) =>
      [call.command, ...call.args, JSON.stringify(call.options?.env ?? {}), scriptOf(call.options!.stdin!)].join("\n")
    ).join("\n");
    const planted = {
      "small secret": small,
      // The large one by its pieces (each part holds some): its refresh token, the start of its key.
      "refresh token in the large secret": (JSON.parse(large) as { refreshToken: string }).refreshToken,
      "key in the large secret": (JSON.parse(large) as { dpopKey: string }).dpopKey.slice(0, 64),
      "service one": "svc-planted-one",
      "service two": "Svc Planted Two",
      "profile a": "profile-planted-a",
      "profile b": "Profile Planted B",
    };
    const leaks = new Set<string>();
    for (const [label, value] of Object.entries(planted)) {
      for (const [form, how] of forms(value)) if (compiled.includes(form)) leaks.add(`${label} (${how})`);
    }
    expect([...leaks]).toEqual([]);
    // …and they did travel, after the program.
    const stdin = fake.calls.map((call) => call.options!.stdin!).join("\n");
    expect(stdin).toContain(hex(utf8(small)));
  });

  it("puts the data on one ASCII line after the program (PowerShell reads stdin in the OEM code page)", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({ service: "mön-cli", runner: fake.runner });
    await store.set("Zoë 東京 🚀", JSON.stringify({ name: "Émilie 東京 🚀" }));
    expect(await store.get("Zoë 東京 🚀")).toBe(JSON.stringify({ name: "Émilie 東京 🚀" }));
    for (const call of fake.calls) {
      const lines = call.options!.stdin!.split("\n");
      expect(lines).toHaveLength(3);
      expect(lines[2]).toBe("");
      expect(lines[1]).toMatch(/^#\{[\x20-\x7e]*\}$/);
      expect(lines[0]).toMatch(/^[\x20-\x7e]*$/);
    }
  });

  it("has a program that reads its data first, ends the process itself, and hides nothing", () => {
    const script = scriptOf(powershellInput({ ops: [{ op: "read", target: "t" }] }));
    expect(script.endsWith("; exit\n")).toBe(true);
    // Nothing after the program ever runs as a command: it reads the data line before anything that can fail…
    expect(script.indexOf("[Console]::In.ReadLine()")).toBeGreaterThan(0);
    expect(script.indexOf("[Console]::In.ReadLine()")).toBeLessThan(script.indexOf("Add-Type"));
    // …and nothing in it looks like hiding code: no decoded program, no encoded command.
    for (const needless of ["FromBase64String", "ScriptBlock]::Create", "Invoke-Expression", "iex ", "EncodedCommand"]) {
      expect(script).not.toContain(needless);
    }
  });
});

// ---- Issue 15, item 8: Credential Manager ignores case and finds parts by prefix ----

/** The entries an earlier version wrote for `profile`: named `<service>:<profile>` raw, user name the profile. */
async function writtenByEarlierVersion(fake: ReturnType<typeof fakePowershell>, service: string, profile: string, value: string) {
  for (const entry of (await planWrite(profile, value, CREDENTIAL_BLOB_MAX_BYTES)).entries) {
    const target = `${service}:${entry.name}`;
    fake.credentials.set(target.toLowerCase(), { target, user: profile, blob: new TextEncoder().encode(entry.value) });
  }
}

describe("windowsKeychainStore(): names no two profiles share", () => {
  it("names each credential <service>:<profile in lower-case percent-encoding>, so case and `:` cannot merge names", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({ service: "my-cli", runner: fake.runner });
    await store.set("default", "a");
    await store.set("Prod", "b");
    await store.set("prod", "c");
    await store.set("a:b*c é", "d");
    await store.set("client:https://auth.example.com", "e");
    await store.set("Work", "w".repeat(3_000)); // two parts
    const targets = [...fake.credentials.values()].map((c) => c.target).sort();
    expect(targets.filter((t) => !t.includes(":part:"))).toEqual([
      "my-cli:%50rod",
      "my-cli:%57ork",
      "my-cli:a%3ab%2ac%20%c3%a9",
      "my-cli:client%3ahttps%3a%2f%2fauth.example.com",
      "my-cli:default", // as earlier versions named it
      "my-cli:prod",
    ]);
    expect(targets.filter((t) => t.includes(":part:"))).toEqual([
      expect.stringMatching(/^my-cli:%57ork:part:[0-9a-f]{16}:1$/),
      expect.stringMatching(/^my-cli:%57ork:part:[0-9a-f]{16}:2$/),
    ]);
    expect([...fake.credentials.values()].find((c) => c.target === "my-cli:%50rod")?.user).toBe("Prod");
    expect(await store.get("Prod")).toBe("b");
    expect(await store.get("prod")).toBe("c");
    expect(await store.get("a:b*c é")).toBe("d");
  });

  it("reads what an earlier version stored under a raw name, moves it on the next write, removes it on delete", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({ service: "my-cli", runner: fake.runner });
    await writtenByEarlierVersion(fake, "my-cli", "Work", "work session");
    await writtenByEarlierVersion(fake, "my-cli", "me@corp", "m".repeat(6_000)); // a manifest and three parts
    await writtenByEarlierVersion(fake, "my-cli", "default", "default session"); // its name did not change
    await writtenByEarlierVersion(fake, "my-cli", "client:https://auth.example.com", "client");
    expect(await store.get("Work")).toBe("work session");
    expect(await store.get("me@corp")).toBe("m".repeat(6_000));
    expect(await store.get("default")).toBe("default session");
    expect(await store.get("client:https://auth.example.com")).toBe("client");
    // "my-cli:Work" is, to Credential Manager, also "my-cli:work": it is still not profile "work"'s entry.
    expect(await store.get("work")).toBeNull();
    await store.delete("work");
    expect(await store.get("Work")).toBe("work session");

    await store.set("Work", "new work session");
    expect(fake.credentials.has("my-cli:work")).toBe(false); // the raw-named entry went
    expect(await store.get("Work")).toBe("new work session");
    await store.delete("me@corp");
    expect([...fake.credentials.values()].filter((c) => c.user === "me@corp")).toEqual([]);
    expect(await store.get("me@corp")).toBeNull();
  });

  it("never takes, moves or removes an entry another profile wrote under a name that differs only in case", async () => {
    const fake = fakePowershell();
    const store = windowsKeychainStore({ service: "my-cli", runner: fake.runner });
    await store.set("work", "lower"); // my-cli:work, which earlier versions also used for "Work"
    expect(await store.get("Work")).toBeNull();
    await store.set("Work", "upper");
    await store.delete("Work");
    expect(await store.get("work")).toBe("lower");
  });
});
