import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #13, account linking: a linked account's passkeys sign in as its primary, and go back to the account
 * when it is unlinked. `linked_from` names the account (`provider|id`) a passkey came from while it is linked;
 * null for a passkey of the user's own identity. A linked account's email finds its primary in searches and
 * /users-by-email: identities get an index by email.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.alterTable('passkeys').addColumn('linked_from', 'text').execute();
    await db.schema
      .createIndex('identities_tenant_email')
      .on('identities')
      .columns(['tenant_id', 'email_norm'])
      .execute();
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.dropIndex('identities_tenant_email').execute();
    await db.schema.alterTable('passkeys').dropColumn('linked_from').execute();
  });
}
