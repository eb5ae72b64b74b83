import type BetterSqlite3 from 'better-sqlite3';
import { sql, type RawBuilder, type SqlBool } from 'kysely';

/** A read that ran past its deadline and was stopped (Auth0 answers a search slower than 2 s with 503). */
export class QueryTimeout extends Error {
  constructor() {
    super('the query ran past its deadline');
    this.name = 'QueryTimeout';
  }
}

const FUNCTION = 'latchkey_before_deadline';

/**
 * SQLite cannot be interrupted from JavaScript (better-sqlite3 exposes neither sqlite3_interrupt nor a
 * progress handler), so a slow read checks the time itself: a condition evaluated once per scanned row that
 * throws past the deadline, which aborts the statement. It must come first in the WHERE clause: SQLite
 * evaluates the terms of a scan in order and skips the rest of a row once one is false.
 */
export function beforeDeadline(deadline: number): RawBuilder<SqlBool> {
  return sql<SqlBool>`${sql.raw(FUNCTION)}(${deadline})`;
}

/** Registers the deadline check on a SQLite connection. */
export function registerDeadline(database: BetterSqlite3.Database): void {
  database.function(FUNCTION, { deterministic: false }, (deadline: unknown) => {
    if (Date.now() > Number(deadline)) throw new QueryTimeout();
    return 1;
  });
}
