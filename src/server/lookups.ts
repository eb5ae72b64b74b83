import { LRUCache } from 'lru-cache';
import type { Client } from '../domain/client.js';
import type { ClientGrant } from '../domain/client-grant.js';
import type { Connection } from '../domain/connection.js';
import type { ResourceServer } from '../domain/resource-server.js';
import type { Store } from '../storage/repositories/index.js';
import { clientOriginPatterns, type OriginPattern } from '../oauth/cors.js';

/**
 * Read-through caches for hot configuration reads (the token endpoint, Management reads by id). Entries live a
 * few seconds so several nodes converge; writes clear them at once, here and, through Redis, on every node.
 */
export interface Lookups {
  client(clientId: string): Promise<Client | undefined>;
  resourceServer(identifier: string): Promise<ResourceServer | undefined>;
  /** The resource server while it is cached, without reading storage (a hot path's promise-free check). */
  cachedResourceServer(identifier: string): ResourceServer | undefined;
  resourceServerById(id: string): Promise<ResourceServer | undefined>;
  grants(clientId: string, audience: string): Promise<ClientGrant[]>;
  /** A connection by name (sign-in, the login page's links). */
  connection(name: string): Promise<Connection | undefined>;
  /** The tenant's settings (flags, default directory and audience); read by the token endpoint and JWKS. */
  tenantSettings(): Promise<Readonly<Record<string, unknown>>>;
  /**
   * Every origin pattern any application of the tenant lists (web_origins, allowed_origins, callbacks):
   * what a CORS preflight, which names no client, is checked against.
   */
  tenantOrigins(): Promise<readonly OriginPattern[]>;
  invalidate(): void;
  /** Entries and approximate characters held by each cache (what callers' input can grow). */
  sizes(): Readonly<Record<LookupCache, { readonly entries: number; readonly size: number }>>;
}

export type LookupCache = 'clients' | 'apis' | 'apisById' | 'grants' | 'connections' | 'settings' | 'origins';

export interface LookupLimits {
  /** Entries per cache. */
  readonly maxEntries: number;
  /** Approximate characters of JSON per cache: a few large records cannot crowd out memory. */
  readonly maxSize: number;
  readonly ttlMs: number;
}

export const LOOKUP_LIMITS: LookupLimits = { maxEntries: 10_000, maxSize: 16 * 1024 * 1024, ttlMs: 5_000 };

/** A bounded LRU whose entries expire by the injected clock. */
export function createTtlLru<V extends object>(limits: LookupLimits, now: () => number): LRUCache<string, V> {
  return new LRUCache<string, V>({
    max: limits.maxEntries,
    maxSize: limits.maxSize,
    sizeCalculation: (value, key) => key.length + JSON.stringify(value).length,
    ttl: limits.ttlMs,
    // Read the clock at every check: tests move a fake clock, and the default 1 ms memo uses a real timer.
    ttlResolution: 0,
    perf: { now },
  });
}

export function createLookups(
  store: Store,
  now: () => number,
  limits: LookupLimits = LOOKUP_LIMITS,
): Lookups {
  const clients = createTtlLru<Client>(limits, now);
  const apis = createTtlLru<ResourceServer>(limits, now);
  const apisById = createTtlLru<ResourceServer>(limits, now);
  const grants = createTtlLru<ClientGrant[]>(limits, now);
  const connections = createTtlLru<Connection>(limits, now);
  const settings = createTtlLru<Readonly<Record<string, unknown>>>(limits, now);
  const origins = createTtlLru<{ readonly patterns: readonly OriginPattern[] }>(limits, now);
  // Bumped by every invalidation: a read that started before a write must not store what it read after it.
  let generation = 0;
  let originsLoading:
    { readonly generation: number; readonly loading: Promise<{ patterns: OriginPattern[] }> } | undefined;
  // Misses are not remembered: ids and audiences come from callers, who could otherwise fill the caches
  // with made-up keys and push out the entries that matter.
  const through = async <V extends object>(
    cache: LRUCache<string, V>,
    key: string,
    load: () => Promise<V | undefined>,
  ): Promise<V | undefined> => {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const started = generation;
    const value = await load();
    if (value !== undefined && started === generation) cache.set(key, value);
    return value;
  };
  return {
    client: (id) => through(clients, id, () => store.clients.findById(id)),
    resourceServer: (identifier) =>
      through(apis, identifier, () => store.resourceServers.findByIdentifier(identifier)),
    cachedResourceServer: (identifier) => apis.get(identifier),
    resourceServerById: (id) => through(apisById, id, () => store.resourceServers.findById(id)),
    grants: async (clientId, audience) =>
      (await through(grants, `${clientId}\n${audience}`, () =>
        store.clientGrants.listForClientAndAudience(clientId, audience),
      )) ?? [],
    connection: (name) => through(connections, name, () => store.connections.findByName(name)),
    tenantSettings: async () =>
      (await through(settings, 'tenant', async () => (await store.tenants.find())?.settings)) ?? {},
    tenantOrigins: async () => {
      // One scan of the clients at a time: a burst of preflights after an invalidation shares it.
      const load = () => {
        if (originsLoading?.generation !== generation) {
          const loading = loadTenantOrigins(store).then((patterns) => ({ patterns }));
          originsLoading = { generation, loading };
          const done = () => {
            if (originsLoading?.loading === loading) originsLoading = undefined;
          };
          loading.then(done, done);
        }
        return originsLoading.loading;
      };
      return (await through(origins, 'tenant', load))?.patterns ?? [];
    },
    sizes() {
      const of = (cache: { readonly size: number; readonly calculatedSize: number }) => ({
        entries: cache.size,
        size: cache.calculatedSize,
      });
      return {
        clients: of(clients),
        apis: of(apis),
        apisById: of(apisById),
        grants: of(grants),
        connections: of(connections),
        settings: of(settings),
        origins: of(origins),
      };
    },
    invalidate() {
      generation += 1;
      clients.clear();
      apis.clear();
      apisById.clear();
      grants.clear();
      connections.clear();
      settings.clear();
      origins.clear();
    },
  };
}

const ORIGIN_PAGE = 500;

/** The union of every application's origin patterns, deduplicated, read page by page in client_id order. */
async function loadTenantOrigins(store: Store): Promise<OriginPattern[]> {
  const seen = new Map<string, OriginPattern>();
  let after: string | undefined;
  for (;;) {
    const page = await store.clients.listAfter({}, after, ORIGIN_PAGE);
    for (const client of page) {
      for (const pattern of clientOriginPatterns(client.settings)) seen.set(JSON.stringify(pattern), pattern);
    }
    if (page.length < ORIGIN_PAGE) return [...seen.values()];
    after = page.at(-1)?.clientId;
  }
}
