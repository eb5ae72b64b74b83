import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  rateLimitHeaders,
} from '../../../src/server/rate-limit.js';
import { createFakeClock } from '../../helpers/fake-clock.js';

describe('memory rate limiter', () => {
  it('allows `limit` hits per second, then refuses until the next window', async () => {
    const clock = createFakeClock(1_000_000_000_000);
    const limiter = createMemoryRateLimiter(2, clock.now);
    const results = [
      await limiter.hit('a'),
      await limiter.hit('a'),
      await limiter.hit('a'),
      await limiter.hit('b'),
    ];
    expect(results.map((r) => [r.allowed, r.remaining])).toEqual([
      [true, 1],
      [true, 0],
      [false, 0],
      [true, 1],
    ]);
    expect(rateLimitHeaders(results[0]!)).toEqual({
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '1',
      'x-ratelimit-reset': '1000000001',
    });
    clock.advance(1000);
    expect((await limiter.hit('a')).allowed).toBe(true);
  });
});

const redisUrl = process.env['LATCHKEY_TEST_REDIS_URL'];

describe.skipIf(!redisUrl)('Redis rate limiter', () => {
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
  });
  const connect = (url: string, opts = {}) => {
    const c = new Redis(url, { maxRetriesPerRequest: 1, ...opts });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };

  it('shares one window between two nodes', async () => {
    const clock = createFakeClock();
    const prefix = `test:${randomBytes(4).toString('hex')}:`;
    const nodeA = createRedisRateLimiter(connect(redisUrl ?? ''), 3, clock.now, () => undefined, prefix);
    const nodeB = createRedisRateLimiter(connect(redisUrl ?? ''), 3, clock.now, () => undefined, prefix);
    const seen = [await nodeA.hit('t'), await nodeB.hit('t'), await nodeA.hit('t'), await nodeB.hit('t')];
    expect(seen.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(seen.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
  });

  it('fails open with one warning when Redis is unreachable', async () => {
    const clock = createFakeClock();
    const warnings: string[] = [];
    const dead = connect('redis://127.0.0.1:1', { enableOfflineQueue: false, lazyConnect: true });
    const limiter = createRedisRateLimiter(dead, 1, clock.now, (m) => warnings.push(m), 'latchkey-test:rl:');
    const results = [await limiter.hit('t'), await limiter.hit('t'), await limiter.hit('t')];
    expect(results.every((r) => r.allowed)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/failing open/);
  });
});
