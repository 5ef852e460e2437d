// One instance of an API, run as its own process by test/server/redis_replay_cache.test.ts (on the runtime under
// test): a verifier whose DPoP replays go to the shared Redis through redisReplayCache() (Bun's RedisClient on Bun,
// node-redis on Node and Deno: two of the client styles in the docs), behind what a load balancer would be (htu is
// judged against the API's public URL), served on loopback with the runtime's own server.
//   GET /me        DPoP-bound tokens, replays refused fleet-wide
//   GET /nonce/me  the same, and a server nonce from createDpopNonceSource({ secret }) with the fleet's secret
// Prints "ready <url>" when it serves; exits when stdin closes.
import process from "node:process";
import { createDpopNonceSource, createVerifier, identityHandler, redisReplayCache } from "../../../server/mod.ts";
import { connectRedis } from "./redis.ts";
import { serve } from "./serve.ts";

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const publicUrl = env("API_PUBLIC_URL");
const redis = await connectRedis(env("REDIS_URL"));
const replayCache = redisReplayCache(redis.send, { prefix: env("REDIS_PREFIX") });
const secret = Uint8Array.from(env("NONCE_SECRET_HEX").match(/../g)!, (byte) => parseInt(byte, 16));
const base = {
  issuer: env("ISSUER"),
  audience: env("AUDIENCE"),
  http: { allowInsecureRequests: true, timeoutMs: 5_000 },
};
const requestUrl = (request: Request) => new URL(new URL(request.url).pathname, publicUrl);
const plain = identityHandler(createVerifier({ ...base, dpop: { replayCache, requestUrl } }));
const withNonce = identityHandler(
  createVerifier({ ...base, dpop: { replayCache, requestUrl, nonce: createDpopNonceSource({ secret }) } }),
);

const served = await serve((request) => {
  const { pathname } = new URL(request.url);
  if (pathname === "/me") return plain(request);
  if (pathname === "/nonce/me") return withNonce(request);
  return Promise.resolve(new Response("not found", { status: 404 }));
});
console.log(`ready ${served.url} ${redis.style}`);

process.stdin.resume();
process.stdin.on("end", async () => {
  await served.close();
  await redis.close();
  process.exit(0);
});
