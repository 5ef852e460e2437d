// Finding secrets where they must not be: the values a run really used (read off the proxy's traffic) and every
// way an error can be shown (message, hint, server fields, cause chain, JSON, String(), util.inspect with hidden
// properties).
import { inspect } from "node:util";
import type { ProxiedRequest } from "./fault_proxy.ts";

/** Secret values, each also looked for in the encodings it travels in (form/URL encoding, base64 in Basic). */
export class SecretSet {
  readonly #values = new Map<string, string>();

  /**
   * Adds a secret under a label (the first label a value gets stays); values shorter than 8 characters are not
   * secrets.
   */
  add(label: string, value: string | undefined | null): void {
    if (typeof value !== "string" || value.length < 8 || this.#values.has(value)) return;
    this.#values.set(value, label);
    const encoded = encodeURIComponent(value);
    if (encoded !== value && !this.#values.has(encoded)) this.#values.set(encoded, `${label} (URL-encoded)`);
  }

  get size(): number {
    return this.#values.size;
  }

  labels(): string[] {
    return [...new Set(this.#values.values())];
  }

  /** The labels of the secrets found in `text`. */
  foundIn(text: string): string[] {
    const found: string[] = [];
    for (const [value, label] of this.#values) if (text.includes(value)) found.push(label);
    return found;
  }

  /** Adds every secret a proxied request carried or was answered with. */
  addTraffic(requests: readonly ProxiedRequest[]): void {
    for (const request of requests) {
      const params = new URLSearchParams(request.body);
      for (const name of ["code", "code_verifier", "refresh_token", "client_secret", "token", "device_code"]) {
        for (const value of params.getAll(name)) this.add(`${name} sent to ${request.path}`, value);
      }
      const authorization = request.authorization ?? "";
      const [scheme = "", credentials = ""] = authorization.split(" ");
      if (credentials) this.add(`${scheme} credentials sent to ${request.path}`, credentials);
      if (/^basic$/i.test(scheme)) {
        const decoded = atob(credentials);
        const secret = decodeURIComponent(decoded.slice(decoded.indexOf(":") + 1));
        this.add(`client secret in Basic to ${request.path}`, secret);
      }
      if (request.responseBody?.startsWith("{")) {
        try {
          const body = JSON.parse(request.responseBody) as Record<string, unknown>;
          for (const name of ["access_token", "refresh_token", "id_token", "device_code"]) {
            if (typeof body[name] === "string") this.add(`${name} from ${request.path}`, body[name] as string);
          }
        } catch {
          // A cut body (reset mid-body): its complete tokens, if any, were never delivered.
        }
      }
    }
  }
}

/** Every text an error can be turned into, the whole cause chain included. */
export function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  try {
    texts.push(String(error));
  } catch {
    // A value without a string form.
  }
  try {
    texts.push(JSON.stringify(error) ?? "");
  } catch {
    texts.push("<not serializable>");
  }
  texts.push(inspect(error, { depth: 20, showHidden: true, getters: true }));
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== null && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    for (const name of Object.getOwnPropertyNames(current)) {
      const value = (current as Record<string, unknown>)[name];
      if (typeof value === "string") texts.push(value);
      else if (value !== null && typeof value === "object" && name !== "cause") {
        try {
          texts.push(JSON.stringify(value) ?? "");
        } catch {
          texts.push(inspect(value, { depth: 10, showHidden: true }));
        }
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return texts;
}
