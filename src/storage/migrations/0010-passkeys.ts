import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #11, passkeys: WebAuthn credentials a user enrolled (My Account API, later native sign-up). A credential
 * id belongs to one user of the tenant, so it is unique per tenant; rows go with their user. `public_key` is the
 * COSE key, base64url; times are ISO 8601 like the users table's.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema
      .createTable('passkeys')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('credential_id', 'text', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('counter', 'bigint', (c) => c.notNull())
      .addColumn('transports', 'text', (c) => c.notNull())
      .addColumn('device_type', 'text', (c) => c.notNull())
      .addColumn('backed_up', 'integer', (c) => c.notNull())
      .addColumn('aaguid', 'text', (c) => c.notNull())
      .addColumn('user_handle', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .addPrimaryKeyConstraint('passkeys_pk', ['tenant_id', 'id'])
      .addForeignKeyConstraint(
        'passkeys_user_fk',
        ['tenant_id', 'user_id'],
        'users',
        ['tenant_id', 'user_id'],
        (fk) => fk.onDelete('cascade'),
      )
      .execute();
    // Sign-in finds a credential by its id; enrolment refuses one already enrolled.
    await db.schema
      .createIndex('passkeys_tenant_credential')
      .on('passkeys')
      .columns(['tenant_id', 'credential_id'])
      .unique()
      .execute();
    // A user's passkeys (My Account lists, Management views).
    await db.schema
      .createIndex('passkeys_tenant_user')
      .on('passkeys')
      .columns(['tenant_id', 'user_id'])
      .execute();
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.dropTable('passkeys').execute();
  });
}
