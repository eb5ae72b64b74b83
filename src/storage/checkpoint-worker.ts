import { workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

// The WAL checkpointer of src/storage/db.ts: copies committed pages into the database file (and syncs both)
// on this thread, so that no request waits for it behind a commit on the main connection.
const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const database = new BetterSqlite3(path, { fileMustExist: true });
database.pragma('busy_timeout = 1000');
database.pragma('synchronous = NORMAL');
setInterval(() => {
  try {
    // PASSIVE: never waits for readers or writers; what it cannot copy now goes with the next round.
    database.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or a transient I/O error: the next round tries again, and the main connection's own
    // auto-checkpoint is the safety net.
  }
}, intervalMs);
