// Prerequisites: an authorization server with DPoP (RFC 9449) enabled for your public client.
//
// "Bind tokens to this machine": with `dpop: true`, login makes an ES256 key pair with Web Crypto and keeps the
// private key (as a JWK) only inside the stored session (OS keychain, or the 0600 file). Every token, refresh,
// userinfo and auth.fetch request carries a proof signed with it, so a copied access or refresh token is useless
// without the key. Server nonces (use_dpop_nonce) are handled with one retry.
import { CliAuth } from "../mod.ts";

const auth = new CliAuth({
  issuer: "https://auth.example.com",
  clientId: "my-cli",
  service: "my-cli",
  resource: "https://api.example.com/",
  dpop: true,
});

const { tokens } = await auth.login();
console.error(`Signed in; token type ${tokens.tokenType}`); // "DPoP"

// A later process loads the key from the store and keeps using it, for refreshes and API calls alike.
const response = await auth.fetch("https://api.example.com/me");
console.log(await response.json());
