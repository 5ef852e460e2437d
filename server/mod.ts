/**
 * `@x/cli-auth/server`: for the API a CLI talks to, on any Fetch-API server (Deno, Bun, Node, Workers, Hono, Next).
 * Web APIs only.
 *
 * @module
 */
export { CliAuthError, isCliAuthError } from "../src/errors.ts";
export type { CliAuthErrorCode } from "../src/errors.ts";
