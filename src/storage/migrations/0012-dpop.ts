import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #12, DPoP (RFC 9449 §5): a public client's refresh token issued with a DPoP proof is bound to that key;
 * its exchange needs a proof signed by the same key. Null for tokens bound to nothing.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.alterTable('refresh_tokens').addColumn('dpop_jkt', 'text').execute();
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.alterTable('refresh_tokens').dropColumn('dpop_jkt').execute();
  });
}
