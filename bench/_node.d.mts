// Types of bench/_node.mjs for the TypeScript benchmarks that import it.

/** Bundles `file` (a .ts path or file URL) for Node into bench/.tmp/node/ and returns the bundle's path. */
export function bundleForNode(file: string | URL): Promise<string>;

/** Bundles `file` and imports it in this process. */
export function runTs(file: string | URL): Promise<void>;
