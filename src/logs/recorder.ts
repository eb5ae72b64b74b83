import type { LogEvent, NewLogEvent } from '../domain/log-event.js';
import { newLogId } from './log-ids.js';
import { scrubEvent } from './scrub.js';

/** Where the recorder keeps events: the tenant's logs table. */
export interface LogSink {
  insertMany(events: readonly LogEvent[]): Promise<void>;
  pruneBefore(at: number): Promise<number>;
}

export interface RecorderOptions {
  readonly sink: LogSink;
  readonly now: () => number;
  readonly retentionMs: number;
  /** Told when events could not be stored (and are kept for the next try) or had to be dropped. */
  readonly warn: (message: string, detail?: Record<string, unknown>) => void;
  /** How long an event may wait for company before its batch is written. */
  readonly delayMs?: number;
  /** Events held while the database is unreachable; beyond it the oldest are dropped and counted. */
  readonly maxQueued?: number;
}

/** Auth0's `recordEvent`: one place every login, token, failure and Management write goes through. */
export interface EventRecorder {
  /** Queues the event and returns at once; never throws, never waits on the database. */
  record(event: NewLogEvent): void;
  /** Calls `listener` with every batch once it is stored (log streams deliver from here). */
  onStored(listener: (events: readonly LogEvent[]) => void): void;
  /** Resolves once every event recorded so far is stored (or dropped after failures). */
  flush(): Promise<void>;
  /** Flushes, then stops the timers. */
  close(): Promise<void>;
}

const BATCH = 500;
const PRUNE_EVERY_MS = 10 * 60_000;
const DROP_WARNING_EVERY_MS = 10_000;

/**
 * Batches events into multi-row inserts off the request's path: a request pays for an object in an array, the
 * database one insert per batch. Old events are pruned as batches are written.
 */
export function createEventRecorder(options: RecorderOptions): EventRecorder {
  const { sink, now, warn } = options;
  const delayMs = options.delayMs ?? 25;
  const maxQueued = options.maxQueued ?? 20_000;
  const listeners: ((events: readonly LogEvent[]) => void)[] = [];
  let queue: LogEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let nextPruneAt = 0;
  let dropped = 0;
  let nextDropWarningAt = 0;
  let failures = 0;

  const schedule = (ms: number) => {
    timer ??= setTimeout(() => {
      timer = undefined;
      void drain();
    }, ms);
    timer.unref();
  };

  const writeBatch = async (): Promise<boolean> => {
    const batch = queue.splice(0, BATCH);
    try {
      await sink.insertMany(batch);
    } catch (error) {
      // Back at the front, ahead of what arrived meanwhile, for the next try.
      queue = batch.concat(queue);
      failures += 1;
      warn('tenant log events not stored; will retry', { events: batch.length, error: String(error) });
      return false;
    }
    failures = 0;
    for (const listener of listeners) listener(batch);
    return true;
  };

  const prune = async () => {
    const at = now();
    if (at < nextPruneAt) return;
    nextPruneAt = at + PRUNE_EVERY_MS;
    try {
      // One batch per round: a long backlog is worked off over several rounds without a long transaction.
      await sink.pruneBefore(at - options.retentionMs);
    } catch (error) {
      warn('old tenant log events not pruned', { error: String(error) });
    }
  };

  const drain = (): Promise<void> => {
    writing ??= (async () => {
      try {
        while (queue.length > 0) {
          if (!(await writeBatch())) {
            // Back off up to a minute; a flush waiting on this gives up after a few failed rounds.
            schedule(Math.min(60_000, 100 * 2 ** Math.min(failures, 10)));
            return;
          }
        }
        await prune();
      } finally {
        writing = undefined;
      }
    })();
    return writing;
  };

  return {
    record(event) {
      const at = now();
      queue.push({ ...scrubEvent(event), logId: newLogId(at), at });
      if (queue.length > maxQueued) {
        const excess = queue.length - maxQueued;
        queue = queue.slice(excess);
        dropped += excess;
        // Once per interval, not per event: a flood of drops must not become a flood of warnings.
        if (at >= nextDropWarningAt) {
          nextDropWarningAt = at + DROP_WARNING_EVERY_MS;
          warn('tenant log queue full: oldest events dropped', { dropped });
        }
      }
      schedule(delayMs);
    },
    onStored(listener) {
      listeners.push(listener);
    },
    async flush() {
      for (let round = 0; round < 5 && queue.length > 0; round++) {
        await (writing ?? drain());
        if (queue.length > 0 && failures > 0) await new Promise((r) => setTimeout(r, 50));
      }
      await writing;
    },
    async close() {
      await this.flush();
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (queue.length > 0) warn('tenant log events lost at shutdown', { events: queue.length });
    },
  };
}
