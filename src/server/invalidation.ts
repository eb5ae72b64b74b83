import type { Redis } from 'ioredis';

export interface Invalidation {
  /** Tells this node and, through Redis, every other node that cached configuration changed. */
  publish(what: 'config' | 'keys'): void;
  close(): Promise<void>;
}

/**
 * Cache invalidation across nodes: in-process callbacks always, Redis pub/sub when configured. A lost
 * message only delays convergence until the caches' own expiry (seconds).
 */
export function createInvalidation(
  redis: Redis | undefined,
  onInvalidate: (what: 'config' | 'keys') => void,
  channel: string,
): Invalidation {
  // The subscriber queues its SUBSCRIBE until connected (the main client fails fast instead) and resubscribes after reconnects.
  const subscriber = redis?.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  subscriber?.on('error', () => undefined);
  if (subscriber) {
    void subscriber.subscribe(channel).catch(() => undefined);
    subscriber.on('message', (_channel: string, message: string) => {
      onInvalidate(message === 'keys' ? 'keys' : 'config');
    });
  }
  return {
    publish(what) {
      onInvalidate(what);
      if (redis) void redis.publish(channel, what).catch(() => undefined);
    },
    async close() {
      if (subscriber) await subscriber.quit().catch(() => undefined);
    },
  };
}
