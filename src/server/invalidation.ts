import type { Redis } from 'ioredis';

/**
 * What changed: cached configuration, signing keys, or what the nodes cache of one user (`passkeys`: only
 * their passkeys, `user`: the user and everything of theirs).
 */
export type Invalidated = 'config' | 'keys' | { readonly user: string; readonly part: UserPart };
export type UserPart = 'user' | 'passkeys';

export interface Invalidation {
  /** Tells this node and, through Redis, every other node that cached configuration changed. */
  publish(what: 'config' | 'keys'): void;
  /**
   * Tells this node and every other node that a user or their passkeys changed (after the write committed):
   * each forgets what it cached of that user.
   */
  userChanged(userId: string, part?: UserPart): void;
  close(): Promise<void>;
}

const PREFIXES: Readonly<Record<UserPart, string>> = { user: 'user:', passkeys: 'passkeys:' };

function parse(message: string): Invalidated {
  for (const part of ['user', 'passkeys'] as const) {
    const prefix = PREFIXES[part];
    if (message.startsWith(prefix)) return { user: message.slice(prefix.length), part };
  }
  return message === 'keys' ? 'keys' : 'config';
}

/**
 * Cache invalidation across nodes: in-process callbacks always, Redis pub/sub when configured. A lost
 * message only delays convergence until the caches' own expiry (seconds).
 */
export function createInvalidation(
  redis: Redis | undefined,
  onInvalidate: (what: Invalidated) => void,
  channel: string,
): Invalidation {
  // The subscriber queues its SUBSCRIBE until connected (the main client fails fast instead) and resubscribes after reconnects.
  const subscriber = redis?.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  subscriber?.on('error', () => undefined);
  if (subscriber) {
    void subscriber.subscribe(channel).catch(() => undefined);
    subscriber.on('message', (_channel: string, message: string) => {
      onInvalidate(parse(message));
    });
  }
  const send = (message: string) => {
    if (redis) void redis.publish(channel, message).catch(() => undefined);
  };
  return {
    publish(what) {
      onInvalidate(what);
      send(what);
    },
    userChanged(userId, part = 'user') {
      onInvalidate({ user: userId, part });
      send(`${PREFIXES[part]}${userId}`);
    },
    async close() {
      if (subscriber) await subscriber.quit().catch(() => undefined);
    },
  };
}
