import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';
import { inTransaction } from './in-transaction.js';

/*
 * Issue #12, second factors. Sessions record how the user authenticated (`amr`, a JSON array) and when a second
 * factor last completed (`mfa_at`, epoch seconds), for acr_values and step-up. Email and phone enrolments keep
 * their address (`address`) and, for phones, the preferred channel (`channel`: sms or voice). A refresh token
 * remembers how its sign-in authenticated (`amr`), so a policy that demands MFA later can tell its holders apart.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.alterTable('sessions').addColumn('amr', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('mfa_at', 'bigint').execute();
    await db.schema.alterTable('mfa_enrolments').addColumn('address', 'text').execute();
    await db.schema.alterTable('mfa_enrolments').addColumn('channel', 'text').execute();
    await db.schema.alterTable('refresh_tokens').addColumn('amr', 'text').execute();
  });
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, async () => {
    await db.schema.alterTable('refresh_tokens').dropColumn('amr').execute();
    await db.schema.alterTable('mfa_enrolments').dropColumn('channel').execute();
    await db.schema.alterTable('mfa_enrolments').dropColumn('address').execute();
    await db.schema.alterTable('sessions').dropColumn('mfa_at').execute();
    await db.schema.alterTable('sessions').dropColumn('amr').execute();
  });
}
