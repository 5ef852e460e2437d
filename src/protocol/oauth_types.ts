/**
 * The oauth4webapi types that appear in `@x/cli-auth`'s public signatures, named here so that users (and the
 * generated docs) can refer to them without importing oauth4webapi. Each is exactly oauth4webapi's type.
 *
 * @module
 */

import type * as oauth from "oauth4webapi";

/**
 * The OAuth client as oauth4webapi sends it: `client_id` and client metadata such as `token_endpoint_auth_method`.
 *
 * @example Usage
 * ```ts
 * import type { Client } from "@x/cli-auth";
 * const client: Client = { client_id: "my-cli", token_endpoint_auth_method: "none" };
 * ```
 */
export type Client = oauth.Client;

/**
 * How the client authenticates at the token endpoint (oauth4webapi's `None()`, `ClientSecretBasic()`,
 * `ClientSecretPost()`, …).
 *
 * @example Usage
 * ```ts
 * import type { ClientAuth, ProtocolContext } from "@x/cli-auth";
 * const authOf = (context: ProtocolContext): ClientAuth => context.clientAuth;
 * ```
 */
export type ClientAuth = oauth.ClientAuth;

/**
 * An RFC 9449 DPoP handle from oauth4webapi's `DPoP()`: the key pair plus the server nonces it remembers.
 *
 * @example Usage
 * ```ts
 * import type { DPoPHandle, ProtocolContext } from "@x/cli-auth";
 * const dpopOf = (context: ProtocolContext): DPoPHandle | undefined => context.dpop;
 * ```
 */
export type DPoPHandle = oauth.DPoPHandle;

/**
 * A Web Crypto key pair (`privateKey`, `publicKey`), as oauth4webapi types it.
 *
 * @example Usage
 * ```ts
 * import { generateDpopKey, type CryptoKeyPair } from "@x/cli-auth/protocol";
 * const { keyPair }: { keyPair: CryptoKeyPair } = await generateDpopKey();
 * ```
 */
export type CryptoKeyPair = oauth.CryptoKeyPair;

/**
 * The validated claims of an ID token (`iss`, `sub`, `aud`, `iat`, `exp`, and whatever else the server put in it).
 *
 * @example Usage
 * ```ts
 * import type { IDToken } from "@x/cli-auth";
 * const subject = (claims: IDToken) => claims.sub;
 * ```
 */
export type IDToken = oauth.IDToken;

/**
 * A processed token endpoint response (`access_token`, `token_type`, `expires_in`, `refresh_token`, …).
 *
 * @example Usage
 * ```ts
 * import { toTokenSet, type TokenEndpointResponse } from "@x/cli-auth/protocol";
 * const response: TokenEndpointResponse = { access_token: "a", token_type: "bearer", expires_in: 60 };
 * const tokens = toTokenSet(response, Date.now());
 * ```
 */
export type TokenEndpointResponse = oauth.TokenEndpointResponse;
