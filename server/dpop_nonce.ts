/**
 * Resource-server nonces for DPoP proofs (RFC 9449 §9): a proof must carry a nonce this server handed out recently,
 * which bounds how long a proof made in advance stays usable (§11.2) whatever the client's clock says.
 *
 * @module
 */

import { CliAuthError } from "../src/common/errors.ts";
import { base64url } from "jose";

/**
 * Hands out and checks DPoP nonces. A verifier with one answers a proof without an acceptable nonce with
 * `use_dpop_nonce` and a `DPoP-Nonce` header carrying `current()`.
 *
 * @example Nonces from your own store
 * ```ts
 * import type { DpopNonceSource } from "@x/cli-auth/server";
 * declare const store: { latest(): Promise<string>; isRecent(nonce: string): Promise<boolean> };
 * const nonce: DpopNonceSource = { current: () => store.latest(), check: (value) => store.isRecent(value) };
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 */
export interface DpopNonceSource {
  /** The nonce clients are to use now: unpredictable, of RFC 9449 §8.1 characters (`%x21 / %x23-5B / %x5D-7E`). */
  current(): string | Promise<string>;
  /** Whether a nonce a proof carries is still acceptable. */
  check(nonce: string): boolean | Promise<boolean>;
}

/**
 * Options of {@link createDpopNonceSource}.
 *
 * @example Nonces every instance accepts
 * ```ts
 * import type { DpopNonceOptions } from "@x/cli-auth/server";
 * declare const sharedSecret: Uint8Array; // 32 random bytes from your secret store
 * const options: DpopNonceOptions = { secret: sharedSecret, lifetimeMs: 120_000 };
 * ```
 */
export interface DpopNonceOptions {
  /**
   * The HMAC key, 32 bytes or more. Instances given the same secret accept each other's nonces; without one, each
   * source makes a random key of its own.
   */
  secret?: Uint8Array;
  /** How often the nonce changes, in ms (default 5 min). A nonce is accepted for one to two lifetimes. */
  lifetimeMs?: number;
  /** The clock, epoch ms (default `Date.now`): for tests. */
  now?: () => number;
}

/**
 * Default {@link DpopNonceOptions.lifetimeMs}: 5 minutes.
 *
 * @example Usage
 * ```ts
 * import { createDpopNonceSource, DEFAULT_DPOP_NONCE_LIFETIME_MS } from "@x/cli-auth/server";
 * const nonce = createDpopNonceSource({ lifetimeMs: DEFAULT_DPOP_NONCE_LIFETIME_MS / 5 });
 * ```
 */
export const DEFAULT_DPOP_NONCE_LIFETIME_MS = 5 * 60_000;

const NONCE = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/;

/**
 * A {@link DpopNonceSource} that needs no storage: the nonce is the current time slot and an HMAC-SHA-256 of it
 * (`<slot>.<mac>`), so checking one is a MAC verification, and every instance with the same `secret` accepts it.
 * The nonce of the current slot and of the one before are accepted.
 *
 * @param options secret, lifetime and clock
 * @returns the nonce source
 * @throws {CliAuthError} `invalid_options` for a secret under 32 bytes or a lifetime under 1 s
 *
 * @example Require nonces on every DPoP request
 * ```ts
 * import { createDpopNonceSource, createVerifier } from "@x/cli-auth/server";
 * const verifier = createVerifier({
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   dpop: { nonce: createDpopNonceSource() },
 * });
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.2
 */
export function createDpopNonceSource(options: DpopNonceOptions = {}): DpopNonceSource {
  const lifetime = options.lifetimeMs ?? DEFAULT_DPOP_NONCE_LIFETIME_MS;
  if (!Number.isFinite(lifetime) || lifetime < 1_000) {
    throw new CliAuthError("invalid_options", "The DPoP nonce `lifetimeMs` must be 1000 ms or more");
  }
  const secret = options.secret;
  if (secret !== undefined && (!(secret instanceof Uint8Array) || secret.byteLength < 32)) {
    throw new CliAuthError("invalid_options", "The DPoP nonce `secret` must be 32 bytes or more");
  }
  const now = options.now ?? Date.now;
  const hmac = { name: "HMAC", hash: "SHA-256" } as const;
  let key: Promise<CryptoKey> | undefined;
  const getKey = () =>
    key ??= secret === undefined
      ? crypto.subtle.generateKey(hmac, false, ["sign", "verify"]) as Promise<CryptoKey>
      : crypto.subtle.importKey("raw", new Uint8Array(secret), hmac, false, ["sign", "verify"]);
  const message = (slot: number) => new TextEncoder().encode(`dpop-nonce:${slot}`);
  let issued: { slot: number; nonce: Promise<string> } | undefined;

  return {
    current() {
      const slot = Math.floor(now() / lifetime);
      if (issued?.slot !== slot) {
        const nonce = getKey()
          .then((k) => crypto.subtle.sign("HMAC", k, message(slot)))
          .then((mac) => `${slot.toString(36)}.${base64url.encode(new Uint8Array(mac))}`);
        issued = { slot, nonce };
        nonce.catch(() => {
          if (issued?.nonce === nonce) issued = undefined;
        });
      }
      return issued.nonce;
    },
    async check(nonce) {
      const match = typeof nonce === "string" ? NONCE.exec(nonce) : null;
      if (!match) return false;
      const slot = parseInt(match[1]!, 36);
      const current = Math.floor(now() / lifetime);
      if (slot !== current && slot !== current - 1) return false;
      return await crypto.subtle.verify("HMAC", await getKey(), new Uint8Array(base64url.decode(match[2]!)), message(slot));
    },
  };
}
