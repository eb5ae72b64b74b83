import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { addressKey, createFailureLimiter } from '../../../src/server/failed-auth-limit.js';
import { createFakeClock } from '../../helpers/fake-clock.js';

const silent = { warn: () => undefined };

describe('failure limiter in process', () => {
  it('refuses a key once it has used up its failures in the window, and only that key', async () => {
    const clock = createFakeClock(Date.UTC(2030, 0, 1, 0, 0, 30));
    const limiter = createFailureLimiter({
      limit: { limit: 2, windowSeconds: 60 },
      now: clock.now,
      prefix: 'x:',
    });
    await limiter.recordFailure('a', silent);
    expect(limiter.refusal('a')).toBeUndefined();
    await limiter.recordFailure('a', silent);
    const windowEnd = Date.UTC(2030, 0, 1, 0, 1, 0) / 1000;
    expect(limiter.refusal('a')).toEqual({ allowed: false, limit: 2, remaining: 0, reset: windowEnd });
    expect(limiter.refusal('b')).toBeUndefined();
    clock.set(windowEnd * 1000);
    expect(limiter.refusal('a')).toBeUndefined();
  });
});

describe('failure limiter counting attempts before they are evaluated', () => {
  it('refuses attempts beyond the limit in the window, and forgets cancelled ones', async () => {
    const clock = createFakeClock(Date.UTC(2030, 0, 1, 0, 0, 30));
    const limiter = createFailureLimiter({
      limit: { limit: 2, windowSeconds: 60 },
      now: clock.now,
      prefix: 'x:',
    });
    const first = await limiter.attempt('a', silent);
    await first.cancel();
    const counted = [await limiter.attempt('a', silent), await limiter.attempt('a', silent)];
    expect(counted.map((a) => a.refusal)).toEqual([undefined, undefined]);
    const windowEnd = Date.UTC(2030, 0, 1, 0, 1, 0) / 1000;
    expect((await limiter.attempt('a', silent)).refusal).toEqual({
      allowed: false,
      limit: 2,
      remaining: 0,
      reset: windowEnd,
    });
    expect((await limiter.attempt('b', silent)).refusal).toBeUndefined();
    clock.set(windowEnd * 1000);
    expect((await limiter.attempt('a', silent)).refusal).toBeUndefined();
  });

  it('lets parallel attempts through only up to the limit', async () => {
    const limiter = createFailureLimiter({
      limit: { limit: 3, windowSeconds: 60 },
      now: Date.now,
      prefix: 'x:',
    });
    const attempts = await Promise.all(Array.from({ length: 10 }, () => limiter.attempt('a', silent)));
    expect(attempts.filter((a) => a.refusal === undefined)).toHaveLength(3);
  });
});

describe('failure limiter with Redis down', () => {
  it('fails open and warns once per window', async () => {
    const clock = createFakeClock(Date.UTC(2030, 0, 1));
    // Nothing listens on port 1: every command fails at once.
    const redis = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, lazyConnect: true });
    redis.on('error', () => undefined);
    const warnings: string[] = [];
    const limiter = createFailureLimiter({
      limit: { limit: 1, windowSeconds: 60 },
      now: clock.now,
      redis,
      prefix: 'x:',
    });
    const log = { warn: (m: string) => warnings.push(m) };
    for (let i = 0; i < 3; i++) await limiter.recordFailure('a', log);
    expect(limiter.refusal('a')).toBeUndefined();
    for (let i = 0; i < 3; i++) expect((await limiter.attempt('a', log)).refusal).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringMatching(/^failed-authentication limiter: Redis unavailable, failing open/),
    ]);
    clock.advance(60_000);
    await limiter.recordFailure('a', log);
    expect(warnings).toHaveLength(2);
    redis.disconnect();
  });
});

describe('addressKey', () => {
  it.each([
    ['203.0.113.9', 't:address:203.0.113.9'],
    ['::ffff:203.0.113.9', 't:address:::ffff:203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', 't:address:2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::ffff', 't:address:2001:db8:1:2::/64'],
    ['2001:db8::1', 't:address:2001:db8:0:0::/64'],
    ['::1', 't:address:0:0:0:0::/64'],
  ])('keys %s as %s (IPv6 by its /64, which one subscriber usually holds whole)', (ip, key) => {
    expect(addressKey('t', ip)).toBe(key);
  });
});
