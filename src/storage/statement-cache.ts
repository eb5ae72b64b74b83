import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Distinct statements kept prepared; beyond it the least recently used is dropped (SQLite frees it on GC). */
const MAX_STATEMENTS = 500;
/**
 * Longer SQL is prepared each time: multi-row inserts (a batch of log events) differ with every batch size and
 * would fill the cache with large statements used once.
 */
const MAX_CACHED_SQL = 4_096;

/**
 * better-sqlite3 as Kysely's SQLite driver sees it, with prepared statements reused by SQL text. Kysely
 * prepares every query it runs, and preparing costs about as much as running a small one: requests repeat
 * the same few dozen statements. Statements run synchronously, so one is never used by two queries at once.
 */
export function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare(sql) {
      if (sql.length > MAX_CACHED_SQL) return database.prepare(sql);
      const hit = statements.get(sql);
      if (hit !== undefined) {
        // Most recently used last: a Map keeps insertion order.
        statements.delete(sql);
        statements.set(sql, hit);
        return hit;
      }
      const statement = database.prepare(sql);
      statements.set(sql, statement);
      if (statements.size > MAX_STATEMENTS) {
        const oldest = statements.keys().next().value;
        if (oldest !== undefined) statements.delete(oldest);
      }
      return statement;
    },
  };
}
