import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type KyselyConfig as KyselyConfigBase,
  type Transaction,
} from 'kysely';

type KyselyConfig = Pick<KyselyConfigBase, 'log'>;
import pg from 'pg';
import type { Database } from './schema.js';
import { FALLBACK_AUTOCHECKPOINT_PAGES, startCheckpointer, type Checkpointer } from './checkpointer.js';
import { registerDeadline } from './search-deadline.js';
import { withStatementCache } from './statement-cache.js';
import {
  createInlineSearchReads,
  createPostgresSearchReads,
  createWorkerSearchReads,
  type SearchReads,
} from './search-reads.js';

export type DialectName = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type DbOrTx = Kysely<Database> | Transaction<Database>;

export interface Storage {
  readonly db: Db;
  readonly dialect: DialectName;
  /** Where user searches run: off the event loop, and cut off at a deadline. */
  readonly searchReads: SearchReads;
  close(): Promise<void>;
}

// pg returns int8 as a string by default; our bigints are epoch seconds, safe as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface CreateDbOptions {
  /** PostgreSQL schema to use (created if missing); tests use one per app for isolation. */
  readonly schema?: string;
  /** Sees the text of every statement run (tests check that each one is scoped to a tenant). */
  readonly onQuery?: (sql: string) => void;
}

/** Opens SQLite (`sqlite:<path>` / `sqlite::memory:`) or PostgreSQL (`postgres://…`). */
export async function createStorage(url: string, options: CreateDbOptions = {}): Promise<Storage> {
  const log = options.onQuery;
  const config: KyselyConfig = log
    ? {
        log: (event) => {
          if (event.level === 'query') log(event.query.sql);
        },
      }
    : {};
  if (url.startsWith('sqlite:')) return await createSqlite(url.slice('sqlite:'.length), config, log);
  return createPostgres(url, options.schema, config);
}

/**
 * The database holds password hashes and sealed secrets: only its owner may read it. A folder this creates is
 * 0700; the file is created (or tightened) to 0600 before SQLite opens it, and SQLite gives its -wal and -shm
 * files the database file's mode.
 */
function restrictToOwner(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  for (const companion of [`${path}-wal`, `${path}-shm`]) {
    if (existsSync(companion)) chmodSync(companion, 0o600);
  }
}

async function createSqlite(
  path: string,
  config: KyselyConfig,
  onQuery: CreateDbOptions['onQuery'],
): Promise<Storage> {
  if (path !== ':memory:') restrictToOwner(path);
  const database = new BetterSqlite3(path);
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  database.pragma('synchronous = NORMAL');
  // The query planner needs statistics to prefer a selective index (users by email) over the sort
  // index; SQLite recommends optimize at open and periodically for long-lived connections.
  database.pragma('optimize=0x10002');
  const optimizer = setInterval(() => database.pragma('optimize'), 3_600_000);
  optimizer.unref();
  registerDeadline(database);
  const db = new Kysely<Database>({
    ...config,
    dialect: new SqliteDialect({ database: withStatementCache(database) }),
  });
  let searchReads: SearchReads = createInlineSearchReads(db);
  let checkpointer: Checkpointer | undefined;
  if (path !== ':memory:') {
    const worker = createWorkerSearchReads({ path, onQuery });
    // Started with the server, so no search waits for it and a worker that cannot open the file fails start-up.
    await worker.start().catch(async (error: unknown) => {
      await db.destroy();
      throw error;
    });
    searchReads = worker;
    checkpointer = startCheckpointer(path);
    database.pragma(`wal_autocheckpoint = ${String(FALLBACK_AUTOCHECKPOINT_PAGES)}`);
  }
  return {
    db,
    dialect: 'sqlite',
    searchReads,
    close: async () => {
      clearInterval(optimizer);
      await checkpointer?.close();
      await searchReads.close();
      await db.destroy();
    },
  };
}

async function createPostgres(
  url: string,
  schema: string | undefined,
  config: KyselyConfig,
): Promise<Storage> {
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name: ${schema}`);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<Database>({ ...config, dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', searchReads: createPostgresSearchReads(db), close: () => db.destroy() };
}

/**
 * PostgreSQL advisory lock held by every change to the tables of a schema that another migration could be reading:
 * migrations (migrate.ts) and schema drops take it, one at a time.
 */
export const SCHEMA_CHANGE_LOCK = 0x4c61_7463;

/** Drops a test schema; used by the test helpers only. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name: ${schema}`);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query('begin');
    await admin.query(`select pg_advisory_xact_lock(${String(SCHEMA_CHANGE_LOCK)})`);
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.query('commit');
  } finally {
    await admin.end();
  }
}
