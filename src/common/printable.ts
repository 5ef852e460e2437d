/**
 * Server text made safe for a terminal. An authorization server (or, in resource-URL sign-in, any server an API's
 * metadata names) chooses `verification_uri`, `user_code`, `error` and `error_description`; printed raw, an ESC or
 * BEL in them drives the user's terminal (OSC 52 writes to the clipboard, CSI erases lines to fake a prompt), and a
 * CR rewrites the line already shown. Every such string passes through {@link printable} before the library prints
 * it or copies it into an error's message, hint or fields.
 *
 * @module
 */

/** C0 controls, DEL and C1 controls (U+0080–U+009F, which some terminals obey as 8-bit CSI, OSC, …). */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
/** The controls that separate words: shown as one space, so that "line one\nline two" stays two words. */
const SEPARATORS = /[\t\n\v\f\r\u0085]+/g;

/**
 * `text` without control characters: tab, line feed, vertical tab, form feed, carriage return and NEL become one
 * space; every other C0 control, DEL and every C1 control is removed. Printable text, non-ASCII letters included,
 * is left as it is.
 *
 * @param text untrusted text from a server
 * @returns the text, fit to print on a terminal or to put into an error
 *
 * @example Usage
 * ```ts
 * import { printable } from "./printable.ts";
 * console.assert(printable("ABCD-EFGH\u001b]52;c;aGk=\u0007\r") === "ABCD-EFGH]52;c;aGk= ");
 * ```
 */
export function printable(text: string): string {
  return text.replace(SEPARATORS, " ").replace(CONTROLS, "");
}
