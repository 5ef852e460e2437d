/**
 * The pages the loopback listener shows in the browser: self-contained (no external assets), readable, accessible,
 * and with every reflected value HTML-escaped. Both can be replaced by the caller.
 *
 * @module
 */

/**
 * What a page may show. `error` and `description` come from the request and are escaped before use.
 *
 * @example Usage
 * ```ts
 * import type { CallbackPageInfo } from "@x/cli-auth";
 * const info: CallbackPageInfo = { kind: "error", title: "Sign-in failed", error: "access_denied" };
 * ```
 */
export interface CallbackPageInfo {
  /** `"success"` once the code arrived; `"error"` for a denied or invalid callback. */
  kind: "success" | "error";
  /** A short heading. */
  title: string;
  /** A sentence saying what happened and what to do. */
  message?: string;
  /** The OAuth error code, for error pages. */
  error?: string;
  /** The server's error description, for error pages (untrusted text). */
  description?: string;
}

/**
 * Renders a page for the browser; return HTML.
 *
 * @example A custom success page
 * ```ts
 * import { escapeHtml, type CallbackPageRenderer } from "@x/cli-auth/protocol";
 * const render: CallbackPageRenderer = (info) =>
 *   `<!doctype html><title>${escapeHtml(info.title)}</title><h1>${escapeHtml(info.title)}</h1>`;
 * ```
 */
export type CallbackPageRenderer = (info: CallbackPageInfo) => string;

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @param value untrusted text
 * @returns text safe to put between tags or inside quotes
 *
 * @example Usage
 * ```ts
 * import { escapeHtml } from "@x/cli-auth/protocol";
 * console.assert(escapeHtml("<script>") === "&lt;script&gt;");
 * ```
 */
export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/**
 * The default page: a small card with a heading, a message and, for errors, the error code and description.
 * Inline CSS only, honours dark mode, `lang`, a viewport and a `role` for screen readers.
 *
 * @param info what to show
 * @returns the HTML document
 *
 * @example Usage
 * ```ts
 * import { renderCallbackPage } from "@x/cli-auth/protocol";
 * const html = renderCallbackPage({ kind: "success", title: "Signed in" });
 * ```
 */
export function renderCallbackPage(info: CallbackPageInfo): string {
  const success = info.kind === "success";
  const details = success || (!info.error && !info.description)
    ? ""
    : `<dl>${info.error ? `<dt>Error</dt><dd><code>${escapeHtml(info.error)}</code></dd>` : ""}${
      info.description ? `<dt>Details</dt><dd>${escapeHtml(info.description)}</dd>` : ""
    }</dl>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(info.title)}</title>
<style>
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
body{margin:0;min-height:100vh;display:grid;place-items:center;background:Canvas;color:CanvasText}
main{max-width:32rem;padding:2rem;border-radius:.75rem;border:1px solid color-mix(in srgb,CanvasText 15%,transparent)}
h1{font-size:1.5rem;margin:0 0 .75rem;color:${success ? "#15803d" : "#b91c1c"}}
@media (prefers-color-scheme:dark){h1{color:${success ? "#4ade80" : "#f87171"}}}
p{line-height:1.5;margin:.5rem 0}dt{font-weight:600;margin-top:.75rem}dd{margin:.25rem 0 0}
code{font-family:ui-monospace,monospace}
</style>
</head>
<body>
<main role="${success ? "status" : "alert"}">
<h1>${success ? "&#10003; " : ""}${escapeHtml(info.title)}</h1>
${info.message ? `<p>${escapeHtml(info.message)}</p>` : ""}
${details}
</main>
</body>
</html>`;
}
