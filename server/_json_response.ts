/**
 * The JSON answers of the server's ready-made routes (identity, resource metadata, refusals): never cached.
 *
 * @module
 */

/**
 * A JSON response that no cache keeps.
 *
 * @param status the HTTP status
 * @param body the JSON body
 * @param headers more headers
 * @returns the response
 */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}
