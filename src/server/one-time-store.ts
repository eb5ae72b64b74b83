import type { Redis } from 'ioredis';
import type { OneTimeValueRepository } from '../storage/repositories/one-time-values.js';

/**
 * Values that may be used once before they expire: authorization codes, WebAuthn challenges, `auth_session`s,
 * DPoP and client-assertion `jti`s, one-time codes. Redis when configured (shared by every node), SQL otherwise.
 */
export interface OneTimeStore {
  /**
   * Holds `value` under `key` for `ttlSeconds`.
   * @returns false when the key is already held: the caller is looking at a replay.
   */
  putOnce(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Returns the value of `key` and forgets it, atomically; undefined when absent or expired. */
  takeOnce(key: string): Promise<string | undefined>;
  /** Returns the value of `key` and keeps it (a page showing a pending transaction); undefined when absent. */
  peek(key: string): Promise<string | undefined>;
}

/** Expired SQL entries are deleted by a put at most this often, rather than by every put. */
export const SQL_SWEEP_INTERVAL_SECONDS = 60;

/** Redis is unreachable: one-time values fail closed (architecture), answered as 503. */
export class OneTimeStoreUnavailable extends Error {
  readonly code = 'ECONNREFUSED';
  constructor(cause: unknown) {
    super('one-time store unavailable', { cause });
  }
}

export function createSqlOneTimeStore(
  values: OneTimeValueRepository,
  nowSeconds: () => number,
): OneTimeStore {
  let sweptAt = Number.NEGATIVE_INFINITY;
  return {
    async putOnce(key, value, ttlSeconds) {
      const now = nowSeconds();
      if (now - sweptAt >= SQL_SWEEP_INTERVAL_SECONDS) {
        sweptAt = now;
        await values.sweep(now);
      }
      return values.put(key, value, now + Math.max(1, Math.ceil(ttlSeconds)), now);
    },
    takeOnce: (key) => values.take(key, nowSeconds()),
    peek: (key) => values.peek(key, nowSeconds()),
  };
}

/** How long a command waits for a connection that is still being made (at start, or after a blip). */
const CONNECT_WAIT_MS = 2_000;

/** `prefix` keeps tenants (and test apps) sharing one Redis apart. */
export function createRedisOneTimeStore(redis: Redis, prefix: string): OneTimeStore {
  // The client fails fast while disconnected (no offline queue); a connection under way is worth waiting for.
  const ready = async (): Promise<void> => {
    if (redis.status === 'ready') return;
    if (redis.status === 'end') throw new Error('Redis connection closed');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        reject(new Error(`Redis not ready (${redis.status})`));
      }, CONNECT_WAIT_MS);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      redis.once('ready', onReady);
    });
  };
  const run = async <T>(command: () => Promise<T>): Promise<T> => {
    try {
      await ready();
      return await command();
    } catch (error) {
      throw new OneTimeStoreUnavailable(error);
    }
  };
  return {
    async putOnce(key, value, ttlSeconds) {
      const ttl = Math.max(1, Math.ceil(ttlSeconds));
      return (await run(() => redis.set(`${prefix}${key}`, value, 'EX', ttl, 'NX'))) === 'OK';
    },
    async takeOnce(key) {
      return (await run(() => redis.getdel(`${prefix}${key}`))) ?? undefined;
    },
    async peek(key) {
      return (await run(() => redis.get(`${prefix}${key}`))) ?? undefined;
    },
  };
}
