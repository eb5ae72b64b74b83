import type { Redis } from 'ioredis';

/** What changed: cached configuration, signing keys, or what the nodes cache of one user. */
export type Invalidated = 'config' | 'keys' | { readonly user: string };

export interface Invalidation {
  /** Tells this node and, through Redis, every other node that cached configuration changed. */
  publish(what: 'config' | 'keys'): void;
  /**
   * Tells this node and every other node that a user or their passkeys changed (after the write committed):
   * each forgets what it cached of that user.
   */
  userChanged(userId: string): void;
  close(): Promise<void>;
}

const USER_PREFIX = 'user:';

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
      if (message.startsWith(USER_PREFIX)) onInvalidate({ user: message.slice(USER_PREFIX.length) });
      else onInvalidate(message === 'keys' ? 'keys' : 'config');
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
    userChanged(userId) {
      onInvalidate({ user: userId });
      send(`${USER_PREFIX}${userId}`);
    },
    async close() {
      if (subscriber) await subscriber.quit().catch(() => undefined);
    },
  };
}
