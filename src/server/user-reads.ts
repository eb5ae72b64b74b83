import type { MfaEnrolment } from '../domain/mfa-enrolment.js';
import type { Passkey } from '../domain/passkey.js';
import type { User } from '../domain/user.js';
import type { Store } from '../storage/repositories/index.js';
import type { UserPart } from './invalidation.js';
import { createTtlLru, type LookupLimits } from './lookups.js';

/**
 * Read-through caches of what every My Account request reads of its user: the user (the subject check: exists,
 * not blocked, older than the token) and their passkeys (the method list). Each write of a user or a passkey
 * forgets that user here and, through Redis, on every node (Invalidation.userChanged); entries also expire after
 * `ttlMs`, so a lost message leaves a blocked user usable on another node for at most that long.
 * A hit answers synchronously: no promise on the hot path.
 */
export interface UserReads {
  user(userId: string): User | undefined | Promise<User | undefined>;
  passkeys(userId: string): readonly Passkey[] | Promise<readonly Passkey[]>;
  /** The user's confirmed second factors (totp, recovery code), forgotten with the passkeys. */
  secondFactors(userId: string): readonly MfaEnrolment[] | Promise<readonly MfaEnrolment[]>;
  /**
   * Forgets one user, or only their authentication methods (part `passkeys`: passkeys and second factors), on
   * this node (the invalidation message of a write).
   */
  forget(userId: string, part?: UserPart): void;
  /** Forgets every user on this node (a write that names no single user, e.g. deleting a connection). */
  forgetAll(): void;
}

/** Entries, approximate characters of JSON, and lifetime per cache, as for the configuration lookups. */
export type UserReadLimits = LookupLimits;

/** Two seconds: how long a node may act on a user's state after a missed invalidation message. */
export const USER_READ_LIMITS: UserReadLimits = {
  maxEntries: 10_000,
  maxSize: 16 * 1024 * 1024,
  ttlMs: 2_000,
};

interface KeyedReads<V> {
  get(key: string): V | undefined | Promise<V | undefined>;
  forget(key: string): void;
  clear(): void;
}

/**
 * One LRU with single-flight loads: concurrent misses of one key share one read, and a read that was under way
 * when its key was forgotten is neither stored nor handed to later callers (it may predate the write).
 */
function keyedReads<V extends object>(
  load: (key: string) => Promise<V | undefined>,
  limits: UserReadLimits,
  now: () => number,
): KeyedReads<V> {
  const cache = createTtlLru<V>(limits, now);
  const loading = new Map<string, Promise<V | undefined>>();
  return {
    get(key) {
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      const pending = loading.get(key);
      if (pending) return pending;
      const settle = () => {
        const mine = loading.get(key) === promise;
        if (mine) loading.delete(key);
        return mine;
      };
      const promise: Promise<V | undefined> = load(key).then(
        (value) => {
          // Misses are not remembered: a user created next must not wait for the entry to expire.
          if (settle() && value !== undefined) cache.set(key, value);
          return value;
        },
        (error: unknown) => {
          settle();
          throw error;
        },
      );
      loading.set(key, promise);
      return promise;
    },
    forget(key) {
      cache.delete(key);
      loading.delete(key);
    },
    clear() {
      cache.clear();
      loading.clear();
    },
  };
}

export function createUserReads(
  store: Store,
  now: () => number,
  limits: UserReadLimits = USER_READ_LIMITS,
): UserReads {
  const users = keyedReads((id) => store.users.findById(id), limits, now);
  const passkeys = keyedReads<readonly Passkey[]>((id) => store.passkeys.listForUser(id), limits, now);
  const factors = keyedReads<readonly MfaEnrolment[]>(
    (id) => store.mfaEnrolments.listConfirmed(id),
    limits,
    now,
  );
  return {
    user: (userId) => users.get(userId),
    passkeys(userId) {
      const found = passkeys.get(userId);
      return found instanceof Promise ? found.then((list) => list ?? []) : (found ?? []);
    },
    secondFactors(userId) {
      const found = factors.get(userId);
      return found instanceof Promise ? found.then((list) => list ?? []) : (found ?? []);
    },
    forget(userId, part = 'user') {
      if (part === 'user') users.forget(userId);
      passkeys.forget(userId);
      factors.forget(userId);
    },
    forgetAll() {
      users.clear();
      passkeys.clear();
      factors.clear();
    },
  };
}
