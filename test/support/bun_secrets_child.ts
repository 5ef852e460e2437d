// Run by `bun` from the tests (whatever runtime runs the test): one bunSecretsStore operation on the real
// Bun.secrets, in the environment the test gives (its private D-Bus session). Input: JSON in argv[2]; output: JSON.
import { bunSecretsStore } from "../../adapters/keychain/bun_secrets.ts";
import { isCliAuthError } from "../../src/common/errors.ts";

const { op, service, profile, value } = JSON.parse(process.argv[2]!) as {
  op: "set" | "get" | "delete" | "probe";
  service: string;
  profile: string;
  value?: string;
};
try {
  const store = bunSecretsStore({ service });
  let result: string | null | undefined;
  if (op === "set") await store.set(profile, value!);
  else if (op === "get") result = await store.get(profile);
  else if (op === "delete") await store.delete(profile);
  else await store.probe();
  console.log(JSON.stringify({ ok: true, backend: store.backend, value: result }));
} catch (error) {
  if (!isCliAuthError(error)) throw error;
  console.log(JSON.stringify({ ok: false, code: error.code, message: error.message }));
}
