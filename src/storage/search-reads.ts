import type { Worker } from 'node:worker_threads';
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { QueryTimeout } from './search-deadline.js';
import { startStorageWorker } from './workers.js';

/**
 * Reads that a caller's input can make slow (user search: list and count). None may hold the event loop, and
 * each is cut off at its deadline with `QueryTimeout`.
 */
export interface SearchReads {
  /**
   * Runs `query`, compiled by this storage's dialect, and returns its rows.
   * @throws QueryTimeout once `deadline` (epoch ms) has passed.
   */
  all<R>(query: CompiledQuery<R>, deadline: number): Promise<R[]>;
  close(): Promise<void>;
}

/**
 * On the connection itself: PostgreSQL runs the query in its own process, so only the deadline needs
 * enforcing, as a statement timeout local to a transaction.
 */
export function createPostgresSearchReads(db: Kysely<Database>): SearchReads {
  return {
    async all<R>(query: CompiledQuery<R>, deadline: number) {
      const ms = Math.max(1, Math.ceil(deadline - Date.now()));
      try {
        return await db.transaction().execute(async (trx) => {
          await sql`select set_config('statement_timeout', ${String(ms)}, true)`.execute(trx);
          return (await trx.executeQuery(query)).rows;
        });
      } catch (error) {
        // 57014 query_canceled: what a statement timeout raises.
        if ((error as { code?: unknown } | null)?.code === '57014') throw new QueryTimeout();
        throw error;
      }
    },
    close: () => Promise.resolve(),
  };
}

/**
 * `sqlite::memory:` cannot be opened by a second connection, so its searches run on the one connection, on
 * the event loop: still cut at the deadline (the query checks it per row), but able to hold the loop that
 * long. In-memory databases are for tests and trials; a served tenant uses a file.
 */
export function createInlineSearchReads(db: Kysely<Database>): SearchReads {
  return {
    async all<R>(query: CompiledQuery<R>) {
      return (await db.executeQuery(query)).rows;
    },
    close: () => Promise.resolve(),
  };
}

export interface WorkerSearchReadsOptions {
  /** The SQLite file, opened read-only by the worker (WAL lets it read while the main connection writes). */
  readonly path: string;
  /** Sees the text of every statement run, as Kysely's log does for the main connection. */
  readonly onQuery?: ((sql: string) => void) | undefined;
  /** How long past a deadline a worker that has not answered is left before it is replaced. */
  readonly graceMs?: number;
}

interface Job {
  readonly resolve: (rows: unknown[]) => void;
  readonly reject: (error: Error) => void;
  readonly deadline: number;
}

type Reply =
  | { readonly id: number; readonly rows: unknown[] }
  | { readonly id: number; readonly timeout: true }
  | { readonly id: number; readonly error: string };

/** Searches queued behind the running one; more are refused at once rather than left to time out. */
const MAX_QUEUED = 64;
const GRACE_MS = 1_000;

/** Search reads on a worker thread, which can be started ahead of the first search. */
export interface WorkerSearchReads extends SearchReads {
  /** Starts the worker and resolves once its connection is open. @throws when it cannot open the file. */
  start(): Promise<void>;
}

interface Running {
  readonly worker: Worker;
  ready: boolean;
  readonly started: Promise<void>;
}

/**
 * SQLite file: reads run on a worker thread with its own read-only connection, one at a time. The SQL is
 * compiled on the main thread (by the same Kysely code as every other query), so only text, parameters and
 * rows cross. A worker that does not answer by its deadline plus a grace period is terminated and replaced.
 */
export function createWorkerSearchReads(options: WorkerSearchReadsOptions): WorkerSearchReads {
  const graceMs = options.graceMs ?? GRACE_MS;
  let running: Running | undefined;
  let nextId = 0;
  const jobs = new Map<number, Job>();
  let watchdog: NodeJS.Timeout | undefined;

  const failAll = (error: () => Error) => {
    for (const job of jobs.values()) job.reject(error());
    jobs.clear();
  };
  const discard = (r: Running) => {
    if (running !== r) return;
    running = undefined;
    clearTimeout(watchdog);
    watchdog = undefined;
    void r.worker.terminate();
  };
  // Jobs finish in the order they were sent: the oldest is the one running. A worker still opening its
  // connection is not timed yet (its jobs' own deadline checks still apply).
  const watch = () => {
    clearTimeout(watchdog);
    watchdog = undefined;
    const oldest = jobs.values().next();
    const r = running;
    if (oldest.done === true || r === undefined) {
      r?.worker.unref();
      return;
    }
    r.worker.ref();
    if (!r.ready) return;
    watchdog = setTimeout(
      () => {
        discard(r);
        failAll(() => new QueryTimeout());
      },
      Math.max(0, oldest.value.deadline + graceMs - Date.now()),
    );
  };
  const spawn = (): Running => {
    const worker = startStorageWorker('search-worker', { path: options.path });
    let opened = (): void => undefined;
    let failed = (_error: Error): void => undefined;
    const r: Running = {
      worker,
      ready: false,
      started: new Promise<void>((resolve, reject) => {
        opened = resolve;
        failed = reject;
      }),
    };
    r.started.catch(() => undefined);
    worker.on('message', (reply: Reply | { readonly ready: true }) => {
      if ('ready' in reply) {
        r.ready = true;
        opened();
        watch();
        return;
      }
      const job = jobs.get(reply.id);
      if (!job) return;
      jobs.delete(reply.id);
      if ('rows' in reply) job.resolve(reply.rows);
      else if ('timeout' in reply) job.reject(new QueryTimeout());
      else job.reject(new Error(reply.error));
      watch();
    });
    const died = (error: Error) => {
      failed(error);
      if (running !== r) return;
      discard(r);
      failAll(() => error);
    };
    worker.on('error', died);
    worker.on('exit', (code) => {
      died(new Error(`search worker exited with code ${String(code)}`));
    });
    return r;
  };

  return {
    start() {
      running ??= spawn();
      return running.started;
    },
    all<R>(query: CompiledQuery<R>, deadline: number): Promise<R[]> {
      if (jobs.size >= MAX_QUEUED) return Promise.reject(new QueryTimeout());
      options.onQuery?.(query.sql);
      running ??= spawn();
      const id = (nextId += 1);
      const rows = new Promise<R[]>((resolve, reject) => {
        jobs.set(id, { resolve: resolve as (rows: unknown[]) => void, reject, deadline });
      });
      running.worker.postMessage({ id, sql: query.sql, parameters: query.parameters });
      if (jobs.size === 1) watch();
      return rows;
    },
    async close() {
      const r = running;
      if (r) discard(r);
      failAll(() => new Error('storage closed'));
      await r?.worker.terminate();
    },
  };
}
