import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisOneTimeStore,
  createSqlOneTimeStore,
  OneTimeStoreUnavailable,
  type OneTimeStore,
} from '../../src/server/one-time-store.js';
import { isUnavailable } from '../../src/server/unavailable.js';
import { testBackends } from '../helpers/backends.js';
import { openTestStore, type TestStore } from '../helpers/store.js';

/** The contract every one-time store keeps, whatever holds the values. */
function behavesAsOneTimeStore(open: () => { store: OneTimeStore; expire: () => Promise<void> }) {
  it('holds a key once: a second put of the same key is a replay', async () => {
    const { store } = open();
    const key = `k-${randomBytes(6).toString('hex')}`;
    expect(await store.putOnce(key, 'first', 60)).toBe(true);
    expect(await store.putOnce(key, 'second', 60)).toBe(false);
    expect(await store.takeOnce(key)).toBe('first');
  });

  it('gives a value back once, then never again', async () => {
    const { store } = open();
    const key = `k-${randomBytes(6).toString('hex')}`;
    await store.putOnce(key, '{"code":1}', 60);
    const taken = await Promise.all([store.takeOnce(key), store.takeOnce(key), store.takeOnce(key)]);
    expect(taken.filter((v) => v !== undefined)).toEqual(['{"code":1}']);
    expect(await store.takeOnce('never-put')).toBeUndefined();
  });

  it('shows a value without using it up, until it is taken', async () => {
    const { store } = open();
    const key = `k-${randomBytes(6).toString('hex')}`;
    expect(await store.peek(key)).toBeUndefined();
    await store.putOnce(key, 'pending', 60);
    expect(await store.peek(key)).toBe('pending');
    expect(await store.peek(key)).toBe('pending');
    expect(await store.putOnce(key, 'other', 60)).toBe(false);
    expect(await store.takeOnce(key)).toBe('pending');
    expect(await store.peek(key)).toBeUndefined();
  });

  it('does not show a value past its lifetime', async () => {
    const { store, expire } = open();
    const key = `k-${randomBytes(6).toString('hex')}`;
    await store.putOnce(key, 'v', 1);
    await expire();
    expect(await store.peek(key)).toBeUndefined();
  });

  it('forgets a value after its lifetime, and the key can then be held again', async () => {
    const { store, expire } = open();
    const key = `k-${randomBytes(6).toString('hex')}`;
    await store.putOnce(key, 'v', 1);
    await expire();
    expect(await store.takeOnce(key)).toBeUndefined();
    expect(await store.putOnce(key, 'again', 60)).toBe(true);
  });
}

describe.each(testBackends())('the SQL one-time store on $name', (backend) => {
  let opened: TestStore;
  let now = 1_700_000_000;
  beforeAll(async () => {
    opened = await openTestStore(backend);
  });
  afterAll(() => opened.close());
  behavesAsOneTimeStore(() => ({
    store: createSqlOneTimeStore(opened.store.oneTimeValues, () => now),
    expire: async () => {
      now += 2;
      await Promise.resolve();
    },
  }));
});

const redisUrl = process.env['LATCHKEY_TEST_REDIS_URL'];
describe.skipIf(redisUrl === undefined)('the Redis one-time store', () => {
  const tenant = `t${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl ?? '', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: false,
    });
  });
  afterAll(async () => {
    await redis.quit();
  });
  behavesAsOneTimeStore(() => ({
    store: createRedisOneTimeStore(redis, `latchkey:${tenant}:once:`),
    expire: () => new Promise((resolve) => setTimeout(resolve, 1_100)),
  }));

  it('keeps tenants apart: the same key is held separately per tenant', async () => {
    const other = createRedisOneTimeStore(redis, `latchkey:${tenant}-other:once:`);
    const own = createRedisOneTimeStore(redis, `latchkey:${tenant}:once:`);
    expect(await own.putOnce('shared', 'a', 60)).toBe(true);
    expect(await other.putOnce('shared', 'b', 60)).toBe(true);
    expect(await other.takeOnce('shared')).toBe('b');
  });

  it('fails closed when Redis is unreachable: a value that cannot be checked is refused (503)', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      connectTimeout: 200,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    await new Promise((resolve) => down.once('end', resolve));
    const store = createRedisOneTimeStore(down, `latchkey:${tenant}:once:`);
    const error = await store.putOnce('k', 'v', 60).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OneTimeStoreUnavailable);
    expect(isUnavailable(error)).toBe(true);
    await expect(store.takeOnce('k')).rejects.toBeInstanceOf(OneTimeStoreUnavailable);
    down.disconnect();
  });
});
