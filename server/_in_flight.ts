/**
 * Whether work in flight (a key set fetch, a discovery, an introspection) may be shared between concurrent
 * requests. Everywhere but on Cloudflare Workers it may; there, a promise started while serving one request must not
 * be awaited while serving another, so each request does its own (jose's `createRemoteJWKSet` does the same).
 *
 * @module
 */

/**
 * Detects Cloudflare Workers by `navigator.userAgent`, when asked (never at import time).
 *
 * @returns `false` on Cloudflare Workers, `true` elsewhere
 */
export function canShareInFlight(): boolean {
  const navigator = (globalThis as { navigator?: { userAgent?: unknown } }).navigator;
  return navigator?.userAgent !== "Cloudflare-Workers";
}
