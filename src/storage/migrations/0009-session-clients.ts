import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #10, sessions: the applications an SSO session has signed in to (Auth0's session `clients`). One row per
 * session and client, written the first time /authorize answers that client from the session; a row of its own
 * rather than a list on the session, so two applications signing in at once cannot overwrite each other.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema
      .createTable('session_clients')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('session_clients_pk', ['tenant_id', 'session_id', 'client_id'])
      .execute();
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.dropTable('session_clients').execute();
  });
}
