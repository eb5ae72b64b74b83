import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #9: a refresh token records the device it was issued to and last used from (Auth0's `device` on
 * /api/v2/refresh-tokens), and why it was revoked (reuse, password change, block, grant deletion, …).
 */
const COLUMNS = ['initial_ip', 'initial_user_agent', 'last_ip', 'last_user_agent', 'revoked_reason'] as const;

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    for (const column of COLUMNS) {
      await db.schema.alterTable('refresh_tokens').addColumn(column, 'text').execute();
    }
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    for (const column of COLUMNS) {
      await db.schema.alterTable('refresh_tokens').dropColumn(column).execute();
    }
  });
}
