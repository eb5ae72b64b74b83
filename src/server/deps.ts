import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { SigningKey } from '../domain/signing-key.js';
import { generateSigningKey } from '../keys/generate.js';
import { Keystore } from '../keys/keystore.js';
import { createJwtSigner, type JwtSigner } from '../keys/signer.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { randomIds, type Ids } from '../lib/ids.js';
import { createSecretBox } from '../lib/secret-box.js';
import type { Storage } from '../storage/db.js';
import { createStore, type Store } from '../storage/repositories/index.js';
import { DEFAULT_TENANT_ID } from '../domain/tenant.js';
import { createInvalidation, type Invalidation } from './invalidation.js';
import { createLookups, type Lookups } from './lookups.js';
import { createRedisOneTimeStore, createSqlOneTimeStore, type OneTimeStore } from './one-time-store.js';

export interface Deps {
  readonly config: Config;
  readonly tenantId: string;
  readonly storage: Storage;
  readonly store: Store;
  readonly keystore: Keystore;
  readonly signer: JwtSigner;
  readonly lookups: Lookups;
  readonly clock: Clock;
  readonly ids: Ids;
  /** Generates a signing key for this tenant (tests inject pre-made keys: RSA generation is slow). */
  readonly generateKey: (state: 'current' | 'next') => Promise<SigningKey>;
  /** Codes, challenges and jtis that may be used once: Redis when configured, SQL otherwise. */
  readonly oneTime: OneTimeStore;
  /** Shared ephemeral state when LATCHKEY_REDIS_URL is set. */
  readonly redis: Redis | undefined;
  /** Clears cached configuration here and on every other node (through Redis when configured). */
  readonly invalidation: Invalidation;
  /** Management API requests per second per calling client. */
  readonly managementRateLimit: number;
  /** Releases what the deps opened (Redis); storage is closed by its owner. */
  close(): Promise<void>;
}

export interface DepsOverrides {
  /** The tenant this node serves (one per process today; tests run two side by side). */
  readonly tenantId?: string;
  readonly clock?: Clock;
  readonly ids?: Ids;
  readonly generateKey?: Deps['generateKey'];
  readonly managementRateLimit?: number;
}

/** Requests per second per calling client (per node, or across nodes with Redis). */
export const MANAGEMENT_RATE_LIMIT = 5_000;

export function createDeps(config: Config, storage: Storage, overrides: DepsOverrides = {}): Deps {
  const clock = overrides.clock ?? systemClock;
  const tenantId = overrides.tenantId ?? DEFAULT_TENANT_ID;
  const store = createStore(storage, tenantId, createSecretBox(config.secret));
  // No offline queue: with Redis down, commands fail at once and callers apply their fail-open/closed rule.
  const redis =
    config.redisUrl === undefined
      ? undefined
      : new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis?.on('error', () => undefined);
  const keystore = new Keystore(
    () => store.signingKeys.list(),
    () => clock.now(),
  );
  const lookups = createLookups(store, () => clock.now());
  const invalidation = createInvalidation(redis, (what) => {
    lookups.invalidate();
    if (what === 'keys') void keystore.reload().catch(() => undefined);
  });
  return {
    config,
    tenantId,
    storage,
    store,
    keystore,
    signer: createJwtSigner(keystore),
    lookups,
    oneTime: redis
      ? createRedisOneTimeStore(redis, tenantId)
      : createSqlOneTimeStore(store.oneTimeValues, () => Math.floor(clock.now() / 1000)),
    invalidation,
    clock,
    ids: overrides.ids ?? randomIds,
    redis,
    managementRateLimit: overrides.managementRateLimit ?? MANAGEMENT_RATE_LIMIT,
    async close() {
      await invalidation.close();
      if (redis) await redis.quit().catch(() => undefined);
    },
    generateKey:
      overrides.generateKey ??
      ((state) => generateSigningKey({ tenantId, issuer: config.issuer, state, now: new Date(clock.now()) })),
  };
}
