import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #9, signing in: brute-force counters are kept per login name whether or not an account has it (the
 * user id column becomes `subject`, and expired rows are pruned by window), and database identities keep the
 * hashes of their previous passwords for the connection option password_history.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.alterTable('login_failures').renameColumn('user_id', 'subject').execute();
    await db.schema
      .createIndex('login_failures_tenant_id_window_start')
      .on('login_failures')
      .columns(['tenant_id', 'window_start'])
      .execute();
    await db.schema
      .createTable('password_history')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('identity_user_id', 'text', (c) => c.notNull())
      // Per identity, counting up: the order passwords were replaced in, whatever the clock says.
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('password_history_pk', ['tenant_id', 'provider', 'identity_user_id', 'seq'])
      .addForeignKeyConstraint(
        'password_history_identity_fk',
        ['tenant_id', 'provider', 'identity_user_id'],
        'identities',
        ['tenant_id', 'provider', 'identity_user_id'],
        (fk) => fk.onDelete('cascade'),
      )
      .execute();
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.dropTable('password_history').execute();
    await db.schema.dropIndex('login_failures_tenant_id_window_start').execute();
    // Counters of login names without an account mean nothing to the per-user counters of 0002.
    await sql`delete from login_failures where subject like 'login:%'`.execute(db);
    await db.schema.alterTable('login_failures').renameColumn('subject', 'user_id').execute();
  });
}
