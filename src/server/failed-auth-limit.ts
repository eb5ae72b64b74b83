import { isIPv6 } from 'node:net';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { AppError } from '../errors/app-error.js';
import { rateLimitHeaders, type RateLimitResult } from './rate-limit.js';

export interface FailureLimit {
  /** Failures tolerated in one window; the next attempt in the window is refused. */
  readonly limit: number;
  readonly windowSeconds: number;
}

/**
 * Failed authentications (unknown client, wrong secret, bad assertion, bad or foreign bearer token) tolerated
 * per client address and tenant. Successful requests never count.
 */
export const FAILED_AUTH_PER_ADDRESS: FailureLimit = { limit: 30, windowSeconds: 60 };

/**
 * Password sign-in attempts that may fail per client address, whatever the login names (Auth0's suspicious
 * IP throttling allows 100 a day, then one every 14.4 minutes; fixed hourly windows come close for a
 * credential-stuffing address and stay bearable for an office behind one NAT address).
 */
export const FAILED_LOGINS_PER_ADDRESS: FailureLimit = { limit: 100, windowSeconds: 3600 };

/**
 * Password sign-in attempts that may fail per login name from every address together (OWASP ASVS 4.0 2.2.1:
 * at most 100 failed attempts per hour on one account), whether or not an account has the name.
 */
export const FAILED_LOGINS_PER_IDENTIFIER: FailureLimit = { limit: 100, windowSeconds: 3600 };

/**
 * Wrong second-factor codes (TOTP, recovery, email or SMS codes) per user from every address together: a
 * six-digit code gives a guesser one chance in 10^6 per try, so ten tries per quarter hour keep a year of
 * guessing at well under one percent, while a user who mistypes a few times is never stopped.
 */
export const FAILED_SECOND_FACTORS_PER_USER: FailureLimit = { limit: 10, windowSeconds: 900 };

/** A pending attempt counted by `FailureLimiter.attempt`. */
export interface Attempt {
  /** Set when the key had already used up its attempts: the attempt must not be evaluated. */
  readonly refusal: RateLimitResult | undefined;
  /** The attempt did not fail after all (a right password): it no longer counts. */
  cancel(): Promise<void>;
}

export interface FailureLimiter {
  readonly limit: FailureLimit;
  /** The refusal for `key` if it has used up its failures in this window; no I/O, so free on the hot path. */
  refusal(key: string): RateLimitResult | undefined;
  /** Counts one failure for `key`, across nodes when Redis is configured; `log` hears of Redis trouble. */
  recordFailure(key: string, log: WarningLog): Promise<void>;
  /**
   * Counts an attempt before it is evaluated, so parallel attempts (and attempts on other nodes, through
   * Redis) share one limit; the attempt is refused once more than `limit` were counted in the window.
   */
  attempt(key: string, log: WarningLog): Promise<Attempt>;
}

export interface WarningLog {
  warn(message: string): void;
}

/** The slice of ioredis the limiter needs. */
export interface FailureCounterRedis {
  multi(): {
    incr(key: string): unknown;
    decr(key: string): unknown;
    expire(key: string, seconds: number): unknown;
    exec(): Promise<[Error | null, unknown][] | null>;
  };
}

export interface FailureLimiterOptions {
  readonly limit: FailureLimit;
  readonly now: () => number;
  /** Shares counts between nodes; a node refuses a key once the shared count, read at its own next failure, is used up. */
  readonly redis?: FailureCounterRedis | undefined;
  readonly prefix: string;
}

const MAX_TRACKED_KEYS = 100_000;

/**
 * Fixed windows of failures per key, counted in one of two ways. `recordFailure` counts after a failure and
 * `refusal` reads this node's view, so a request that authenticates costs one map lookup (client
 * authentication). `attempt` counts before the slow check, atomically across nodes, and is cancelled on
 * success (user passwords, where each guess costs a hash). Redis down: nothing is counted and nothing is
 * refused (rate limits fail open), with one warning per window.
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
  const failOpen = (window: number, error: unknown, log: WarningLog) => {
    if (warnedIn === window) return;
    warnedIn = window;
    log.warn(
      `failed-authentication limiter: Redis unavailable, failing open (${error instanceof Error ? error.message : String(error)})`,
    );
  };
  /** Adds `delta` to the key's count in the window; the shared count, or undefined when Redis failed. */
  const add = async (key: string, window: number, delta: 1 | -1, log: WarningLog) => {
    const entry = counts.get(key);
    let count = Math.max(0, (entry !== undefined && entry.window === window ? entry.count : 0) + delta);
    if (options.redis) {
      const redisKey = `${options.prefix}${key}:${window}`;
      try {
        const tx = options.redis.multi();
        if (delta > 0) tx.incr(redisKey);
        else tx.decr(redisKey);
        tx.expire(redisKey, windowSeconds * 2);
        const results = await tx.exec();
        count = Number(results?.[0]?.[1] ?? 0);
      } catch (error) {
        failOpen(window, error, log);
        return undefined;
      }
    }
    counts.set(key, { window, count });
    return count;
  };
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
      await add(key, windowOf(), 1, log);
    },
    async attempt(key, log) {
      const window = windowOf();
      const count = await add(key, window, 1, log);
      return {
        refusal: count !== undefined && count > limit ? refusalAt(window) : undefined,
        cancel: async () => {
          // A window that has ended no longer refuses anyone.
          if (count !== undefined && windowOf() === window) await add(key, window, -1, log);
        },
      };
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
