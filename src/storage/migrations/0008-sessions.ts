import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #10, browser sign-in: the SSO session behind the `auth0` cookie. The cookie holds an opaque random value;
 * only its SHA-256 is stored (`token_hash`), as for refresh tokens. `id` is the public session id (the ID
 * token's `sid`). Times are epoch seconds.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema
      .createTable('sessions')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('authenticated_at', 'bigint', (c) => c.notNull())
      .addColumn('last_interaction_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('idle_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addPrimaryKeyConstraint('sessions_pk', ['tenant_id', 'id'])
      .execute();
    // The cookie lookup on every /authorize.
    await db.schema
      .createIndex('sessions_tenant_token_hash')
      .on('sessions')
      .columns(['tenant_id', 'token_hash'])
      .unique()
      .execute();
    // A user's sessions (Management API, logout everywhere, blocking).
    await db.schema
      .createIndex('sessions_tenant_user')
      .on('sessions')
      .columns(['tenant_id', 'user_id'])
      .execute();
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.dropTable('sessions').execute();
  });
}
