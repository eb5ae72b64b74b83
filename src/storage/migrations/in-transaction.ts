import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../db.js';

/** Runs a migration's work in one transaction: PostgreSQL migrations already run in one (Kysely's migrator), SQLite's do not. */
export async function inTransaction(
  db: Kysely<unknown>,
  dialect: DialectName,
  work: () => Promise<void>,
): Promise<void> {
  if (dialect === 'postgres') return work();
  await sql`begin`.execute(db);
  try {
    await work();
    await sql`commit`.execute(db);
  } catch (error) {
    await sql`rollback`.execute(db);
    throw error;
  }
}
