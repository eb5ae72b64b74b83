import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #12, second factors a user enrols through the My Account API (`totp`, `recovery-code`). A row is written
 * when an enrolment starts (unconfirmed) and confirmed by its verification; rows go with their user.
 * `secret` is the TOTP secret sealed with the tenant secret box; `code_hash` the SHA-256 of a recovery code.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema
      .createTable('mfa_enrolments')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('secret', 'text')
      .addColumn('code_hash', 'text')
      .addColumn('confirmed', 'integer', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('enrolled_at', 'text')
      .addColumn('last_auth_at', 'text')
      .addPrimaryKeyConstraint('mfa_enrolments_pk', ['tenant_id', 'id'])
      .addForeignKeyConstraint(
        'mfa_enrolments_user_fk',
        ['tenant_id', 'user_id'],
        'users',
        ['tenant_id', 'user_id'],
        (fk) => fk.onDelete('cascade'),
      )
      .execute();
    // A user's enrolments (My Account lists, sign-in challenges).
    await db.schema
      .createIndex('mfa_enrolments_tenant_user')
      .on('mfa_enrolments')
      .columns(['tenant_id', 'user_id'])
      .execute();
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.dropTable('mfa_enrolments').execute();
  });
}
