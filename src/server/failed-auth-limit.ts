import { isIPv6 } from 'node:net';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { AppError } from '../errors/app-error.js';
import { rateLimitHeaders, type RateLimitResult, type RedisCounter } from './rate-limit.js';

export interface FailureLimit {
  /** Failures tolerated in one window; the next attempt in the window is refused. */
  readonly limit: number;
  readonly windowSeconds: number;
}

/**
 * Failed authentications (unknown client, wrong secret, bad assertion, bad or foreign bearer token) tolerated
 * per client address and tenant. Successful requests never count. Issue 9 adds per-identifier limits for
 * user logins beside this one, as another key kind on the same limiter.
 */
export const FAILED_AUTH_PER_ADDRESS: FailureLimit = { limit: 30, windowSeconds: 60 };

export interface FailureLimiter {
  readonly limit: FailureLimit;
  /** The refusal for `key` if it has used up its failures in this window; no I/O, so free on the hot path. */
  refusal(key: string): RateLimitResult | undefined;
  /** Counts one failure for `key`, across nodes when Redis is configured; `log` hears of Redis trouble. */
  recordFailure(key: string, log: WarningLog): Promise<void>;
}

export interface WarningLog {
  warn(message: string): void;
}

export interface FailureLimiterOptions {
  readonly limit: FailureLimit;
  readonly now: () => number;
  /** Shares counts between nodes; a node refuses a key once the shared count, read at its own next failure, is used up. */
  readonly redis?: RedisCounter | undefined;
  readonly prefix: string;
}

const MAX_TRACKED_KEYS = 100_000;

/**
 * Fixed windows of failures per key. Counting happens only on failure; the check before authentication reads
 * this node's view, so a request that authenticates costs one map lookup. Redis down: failures are not
 * counted and nothing is refused (rate limits fail open), with one warning per window.
 */
export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const { limit, windowSeconds } = options.limit;
  const counts = new LRUCache<string, { window: number; count: number }>({ max: MAX_TRACKED_KEYS });
  const windowOf = () => Math.floor(options.now() / 1000 / windowSeconds);
  const refusalAt = (window: number): RateLimitResult => ({
    allowed: false,
    limit,
    remaining: 0,
    reset: (window + 1) * windowSeconds,
  });
  let warnedIn = -1;
  return {
    limit: options.limit,
    refusal(key) {
      if (counts.size === 0) return undefined;
      const entry = counts.get(key);
      const window = windowOf();
      return entry !== undefined && entry.window === window && entry.count >= limit
        ? refusalAt(window)
        : undefined;
    },
    async recordFailure(key, log) {
      const window = windowOf();
      const entry = counts.get(key);
      let count = entry !== undefined && entry.window === window ? entry.count + 1 : 1;
      if (options.redis) {
        const redisKey = `${options.prefix}${key}:${window}`;
        try {
          const tx = options.redis.multi();
          tx.incr(redisKey);
          tx.expire(redisKey, windowSeconds * 2);
          const results = await tx.exec();
          count = Number(results?.[0]?.[1] ?? 0);
        } catch (error) {
          if (warnedIn !== window) {
            warnedIn = window;
            log.warn(
              `failed-authentication limiter: Redis unavailable, failing open (${error instanceof Error ? error.message : String(error)})`,
            );
          }
          return;
        }
      }
      counts.set(key, { window, count });
    },
  };
}

/** One key per client address; IPv6 clients are keyed by their /64, which one subscriber usually holds whole. */
export function addressKey(tenantId: string, ip: string): string {
  const v6 = ip.includes(':') && isIPv6(ip) && !ip.startsWith('::ffff:');
  return `${tenantId}:address:${v6 ? ipv6Prefix64(ip) : ip}`;
}

function ipv6Prefix64(ip: string): string {
  const [head = '', tail = ''] = ip.split('%', 1)[0]?.split('::') ?? [];
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Response headers of a refusal: when to come back, in Auth0's x-ratelimit-* terms and as Retry-After. */
export function refusalHeaders(refusal: RateLimitResult, nowMs: number): Record<string, string> {
  return {
    ...rateLimitHeaders(refusal),
    'retry-after': String(Math.max(1, refusal.reset - Math.floor(nowMs / 1000))),
  };
}

/**
 * Route hooks for an endpoint that authenticates callers itself (the token and revocation endpoints): refuse
 * an address that used up its failures before any credential is looked at, and count `isFailure` errors.
 */
export function failedAuthHooks({
  limiter,
  key,
  tooManyRequests,
  isFailure,
  now,
}: {
  readonly limiter: FailureLimiter;
  readonly key: (req: FastifyRequest) => string;
  readonly tooManyRequests: () => AppError;
  readonly isFailure: (err: unknown) => boolean;
  readonly now: () => number;
}) {
  return {
    onRequest: (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      const refusal = limiter.refusal(key(req));
      if (refusal) {
        void reply.headers(refusalHeaders(refusal, now()));
        done(tooManyRequests());
        return;
      }
      done();
    },
    onError: async (req: FastifyRequest, _reply: FastifyReply, err: Error): Promise<void> => {
      if (isFailure(err)) await limiter.recordFailure(key(req), req.log);
    },
  };
}
