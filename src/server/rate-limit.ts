/** Fixed one-second windows per key; enough to emit Auth0's x-ratelimit-* headers and to shed bursts. */
export interface RateLimitResult {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Epoch seconds when the window resets. */
  readonly reset: number;
}

export interface RateLimiter {
  /** In-process limiters answer at once; shared ones through a promise. */
  hit(key: string): RateLimitResult | Promise<RateLimitResult>;
}

export function createMemoryRateLimiter(limit: number, now: () => number): RateLimiter {
  const windows = new Map<string, { second: number; count: number }>();
  return {
    hit(key) {
      const second = Math.floor(now() / 1000);
      let w = windows.get(key);
      if (!w || w.second !== second) {
        if (windows.size > 10_000) windows.clear();
        w = { second, count: 0 };
        windows.set(key, w);
      }
      w.count += 1;
      return { allowed: w.count <= limit, limit, remaining: Math.max(0, limit - w.count), reset: second + 1 };
    },
  };
}

export function rateLimitHeaders(r: RateLimitResult): Record<string, string> {
  return {
    'x-ratelimit-limit': String(r.limit),
    'x-ratelimit-remaining': String(r.remaining),
    'x-ratelimit-reset': String(r.reset),
  };
}

/** The slice of ioredis the limiter needs. */
export interface RedisCounter {
  multi(): {
    incr(key: string): unknown;
    expire(key: string, seconds: number): unknown;
    exec(): Promise<[Error | null, unknown][] | null>;
  };
}

/**
 * Shares windows across nodes through Redis. When Redis fails the limiter fails open and says so once
 * per window (architecture: rate limits fail open, one-time values fail closed).
 */
export function createRedisRateLimiter(
  redis: RedisCounter,
  limit: number,
  now: () => number,
  warn: (message: string) => void,
  prefix: string,
): RateLimiter {
  let warnedAt = -1;
  return {
    async hit(key) {
      const second = Math.floor(now() / 1000);
      const redisKey = `${prefix}${key}:${second}`;
      try {
        const tx = redis.multi();
        tx.incr(redisKey);
        tx.expire(redisKey, 2);
        const results = await tx.exec();
        const count = Number(results?.[0]?.[1] ?? 0);
        return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), reset: second + 1 };
      } catch (error) {
        if (warnedAt !== second) {
          warnedAt = second;
          warn(
            `rate limiter: Redis unavailable, failing open (${error instanceof Error ? error.message : String(error)})`,
          );
        }
        return { allowed: true, limit, remaining: limit, reset: second + 1 };
      }
    },
  };
}
