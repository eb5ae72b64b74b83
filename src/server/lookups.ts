import type { Client } from '../domain/client.js';
import type { ClientGrant } from '../domain/client-grant.js';
import type { ResourceServer } from '../domain/resource-server.js';
import { TtlCache } from '../lib/lru.js';
import type { Store } from '../storage/repositories/index.js';

/**
 * Read-through caches for the token endpoint's hot lookups. Entries live a few seconds so several
 * nodes converge; writes on this node clear them at once.
 */
export interface Lookups {
  client(clientId: string): Promise<Client | undefined>;
  resourceServer(identifier: string): Promise<ResourceServer | undefined>;
  grants(clientId: string, audience: string): Promise<ClientGrant[]>;
  /** The tenant's settings (flags, default directory and audience); read by the token endpoint and JWKS. */
  tenantSettings(): Promise<Readonly<Record<string, unknown>>>;
  invalidate(): void;
}

const TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

export function createLookups(store: Store, now: () => number): Lookups {
  const clients = new TtlCache<Client | undefined>(MAX_ENTRIES, TTL_MS, now);
  const apis = new TtlCache<ResourceServer | undefined>(MAX_ENTRIES, TTL_MS, now);
  const grants = new TtlCache<ClientGrant[]>(MAX_ENTRIES, TTL_MS, now);
  const settings = new TtlCache<Readonly<Record<string, unknown>>>(1, TTL_MS, now);
  const through = async <V>(cache: TtlCache<V>, key: string, load: () => Promise<V>): Promise<V> => {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const value = await load();
    cache.set(key, value);
    return value;
  };
  return {
    client: (id) => through(clients, id, () => store.clients.findById(id)),
    resourceServer: (identifier) =>
      through(apis, identifier, () => store.resourceServers.findByIdentifier(identifier)),
    grants: (clientId, audience) =>
      through(grants, `${clientId}\n${audience}`, () =>
        store.clientGrants.listForClientAndAudience(clientId, audience),
      ),
    tenantSettings: () =>
      through(settings, 'tenant', async () => (await store.tenants.find())?.settings ?? {}),
    invalidate() {
      clients.clear();
      apis.clear();
      grants.clear();
      settings.clear();
    },
  };
}
