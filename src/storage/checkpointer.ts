import { startStorageWorker } from './workers.js';

/** How often the worker checkpoints the WAL. */
const CHECKPOINT_INTERVAL_MS = 500;
/**
 * The main connection's own auto-checkpoint, in pages (4 KiB each), raised from SQLite's 1,000: it only
 * runs when the worker has fallen behind or died, and then blocks the commit that triggers it.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

export interface Checkpointer {
  close(): Promise<void>;
}

/**
 * WAL checkpoints of a SQLite file on a worker thread. SQLite's default runs them inside the commit that
 * crosses 1,000 pages of WAL, on the main thread, with two fsyncs: a request stalls for milliseconds every
 * few hundred writes, and every write pays for it on average.
 */
export function startCheckpointer(path: string): Checkpointer {
  const worker = startStorageWorker('checkpoint-worker', { path, intervalMs: CHECKPOINT_INTERVAL_MS });
  // A worker that cannot start or fails later leaves the fallback auto-checkpoint in charge; it must not take
  // the process down, nor keep it alive.
  worker.on('error', () => undefined);
  worker.unref();
  return {
    async close() {
      await worker.terminate();
    },
  };
}
