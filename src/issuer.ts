/**
 * The authorization server one `CliAuth` instance talks to, kept in a closure: its metadata (discovered once per
 * instance, a failure not remembered; found through the resource's RFC 9728 metadata when only `resource` is
 * configured), the client (the configured one; else the `clientMetadataUrl` when the server takes client ID metadata
 * documents; else the one registered there earlier and kept in the store, else a new RFC 7591 registration, forgotten
 * when the server no longer knows it), the protocol contexts of logins and
 * stored sessions, and one DPoP handle per key (so server nonces are remembered between requests). Login and refresh
 * both go through it. Protocol modules are imported on first use.
 *
 * @module
 */

import { CliAuthError } from "./common/errors.ts";
import type { AuthorizationServer } from "./common/discovery.ts";
import { registeredClientKey } from "./names.ts";
import type { Config } from "./options.ts";
import type { StoredDpopKey } from "./protocol/dpop.ts";
import type { DPoPHandle } from "./protocol/oauth_types.ts";
import type { ProtocolContext } from "./protocol/protocol_context.ts";
import type { Session } from "./session/session.ts";

/** What a protocol context is made for: a stored session (its client and DPoP key), or a login's client and key. */
export interface ContextFor {
  /** A stored session: its client and DPoP key. */
  session?: Session;
  /** A new login's client. */
  clientId?: string;
  /** A new login's DPoP handle. */
  dpop?: DPoPHandle;
}

/** The authorization server as one instance knows it. */
export interface Issuer {
  /** The server's metadata, discovered once (a failure is not remembered). */
  metadata(signal?: AbortSignal): Promise<AuthorizationServer>;
  /** The protocol context for a stored session, or for a new login (the configured client by default). */
  context(signal?: AbortSignal, using?: ContextFor): Promise<ProtocolContext>;
  /** The DPoP handle of a stored key, one per key and instance. */
  dpopHandle(clientId: string, key: StoredDpopKey): Promise<DPoPHandle>;
  /**
   * The client ID for a new login: the configured one; else `clientMetadataUrl` when `as` says
   * `client_id_metadata_document_supported: true`; else the one registered at `as` earlier (kept in the store), else
   * a newly registered one (RFC 7591); `fresh` registers anew. `registered` says it came from the store.
   */
  loginClient(as: AuthorizationServer, signal: AbortSignal, fresh?: boolean): Promise<{ clientId: string; registered: boolean }>;
  /** Forgets the client registered at `issuer` (the server no longer knows it): the next login registers anew. */
  forgetClient(issuer: string): Promise<void>;
}

/**
 * The authorization server of one instance.
 *
 * @param config the instance's configuration
 * @returns the issuer
 */
export function createIssuer(config: Config): Issuer {
  let server: Promise<AuthorizationServer> | undefined;
  const dpopHandles = new Map<string, Promise<DPoPHandle>>();

  const metadata = (signal?: AbortSignal): Promise<AuthorizationServer> => {
    if (!server) {
      const pending = (async () => {
        let issuer = config.issuer;
        if (!issuer && !config.endpoints?.token) {
          // Sign-in from a resource URL alone: the resource names its authorization server (RFC 9728).
          const { authorizationServerOf, discoverProtectedResource } = await import("./protocol/resource_discovery.ts");
          const resource = await discoverProtectedResource(config.resources[0]!, { http: config.http, signal });
          issuer = authorizationServerOf(resource);
        }
        const { resolveAuthorizationServer } = await import("./common/discovery.ts");
        return await resolveAuthorizationServer({ issuer, endpoints: config.endpoints, http: config.http, signal });
      })();
      server = pending;
      pending.catch(() => {
        if (server === pending) server = undefined;
      });
    }
    return server;
  };

  const dpopHandle = (clientId: string, key: StoredDpopKey): Promise<DPoPHandle> => {
    const id = `${clientId} ${key.publicJwk.x} ${key.publicJwk.y}`;
    let handle = dpopHandles.get(id);
    if (!handle) {
      handle = import("./protocol/dpop.ts").then(({ dpopHandle, importDpopKey }) => importDpopKey(key).then(dpopHandle));
      dpopHandles.set(id, handle);
    }
    return handle;
  };

  return {
    metadata,
    dpopHandle,
    async context(signal, using = {}) {
      const as = await metadata(signal);
      const clientId = using.session?.clientId ?? using.clientId ?? config.clientId;
      if (!clientId) throw new CliAuthError("invalid_options", "No client ID is known for this login");
      const dpop = using.dpop ?? (using.session?.dpopKey ? await dpopHandle(clientId, using.session.dpopKey) : undefined);
      const { createProtocolContext } = await import("./protocol/protocol_context.ts");
      return createProtocolContext(as, {
        clientId,
        clientSecret: config.clientSecret,
        http: config.http,
        resource: config.resources,
        dpop,
      });
    },
    async loginClient(as, signal, fresh = false) {
      if (config.clientId) return { clientId: config.clientId, registered: false };
      // A client ID metadata document: the server fetches the client's metadata from the URL; nothing to register.
      if (config.clientMetadataUrl && as.client_id_metadata_document_supported === true) {
        return { clientId: config.clientMetadataUrl, registered: false };
      }
      const store = await config.store();
      const { registerPublicClient, storedClient } = await import("./protocol/client_registration.ts");
      if (!fresh) {
        const known = await storedClient(store, as);
        if (known) return { clientId: known.clientId, registered: true };
      }
      const client = await registerPublicClient(as, store, {
        clientName: config.service,
        http: config.http,
        signal,
        now: config.now(),
        dpop: config.dpop,
      });
      return { clientId: client.clientId, registered: false };
    },
    async forgetClient(issuer) {
      await (await config.store()).delete(registeredClientKey(issuer));
    },
  };
}
