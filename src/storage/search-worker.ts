import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { QueryTimeout, registerDeadline } from './search-deadline.js';

// The search worker of src/storage/search-reads.ts: one read-only connection, one statement at a time.
const { path } = workerData as { path: string };
const database = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
database.pragma('busy_timeout = 1000');
registerDeadline(database);
parentPort?.postMessage({ ready: true });

parentPort?.on('message', ({ id, sql, parameters }: { id: number; sql: string; parameters: unknown[] }) => {
  try {
    parentPort?.postMessage({ id, rows: database.prepare(sql).all(parameters) });
  } catch (error) {
    parentPort?.postMessage(
      error instanceof QueryTimeout
        ? { id, timeout: true }
        : { id, error: error instanceof Error ? error.message : String(error) },
    );
  }
});
