import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #13, seed 003: public keys a user's device registers through POST /api/v2/device-credentials. One key
 * per user, application and device; rows go with their user. (Refresh-token credentials are the
 * refresh_tokens rows, listed beside these.)
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema
      .createTable('device_credentials')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('device_name', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('device_credentials_pk', ['tenant_id', 'id'])
      .addForeignKeyConstraint(
        'device_credentials_user_fk',
        ['tenant_id', 'user_id'],
        'users',
        ['tenant_id', 'user_id'],
        (fk) => fk.onDelete('cascade'),
      )
      .execute();
    // 409 "A public key already exists for the device." comes from this index, under concurrency too.
    await db.schema
      .createIndex('device_credentials_device')
      .on('device_credentials')
      .columns(['tenant_id', 'user_id', 'client_id', 'device_id', 'type'])
      .unique()
      .execute();
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.dropTable('device_credentials').execute();
  });
}
