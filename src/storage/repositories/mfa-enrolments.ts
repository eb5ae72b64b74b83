import type { Selectable } from 'kysely';
import { isMfaEnrolmentType, type MfaEnrolment, type MfaEnrolmentType } from '../../domain/mfa-enrolment.js';
import type { SecretBox } from '../../lib/secret-box.js';
import type { DbOrTx } from '../db.js';
import { fromBool, toBool } from '../json.js';
import type { MfaEnrolmentsTable } from '../schema.js';

/** Users' second-factor enrolments (TOTP, recovery code, email, phone); TOTP secrets are sealed at rest like client secrets. */
export function createMfaEnrolmentRepository(db: DbOrTx, tenantId: string, box: SecretBox) {
  const toEnrolment = (r: Selectable<MfaEnrolmentsTable>): MfaEnrolment => ({
    id: r.id,
    userId: r.user_id,
    type: isMfaEnrolmentType(r.type) ? r.type : 'recovery-code',
    secret: r.secret === null ? undefined : box.open(r.secret),
    codeHash: r.code_hash ?? undefined,
    confirmed: toBool(r.confirmed),
    name: r.name ?? undefined,
    createdAt: r.created_at,
    enrolledAt: r.enrolled_at ?? undefined,
    lastAuthAt: r.last_auth_at ?? undefined,
    ...(r.address === null ? {} : { address: r.address }),
    ...(r.channel === 'sms' || r.channel === 'voice' ? { channel: r.channel } : {}),
  });
  const ofUser = (userId: string) =>
    db
      .selectFrom('mfa_enrolments')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId);

  const insert = async (e: MfaEnrolment): Promise<void> => {
    await db
      .insertInto('mfa_enrolments')
      .values({
        tenant_id: tenantId,
        id: e.id,
        user_id: e.userId,
        type: e.type,
        secret: e.secret === undefined ? null : box.seal(e.secret),
        code_hash: e.codeHash ?? null,
        confirmed: fromBool(e.confirmed),
        name: e.name ?? null,
        created_at: e.createdAt,
        enrolled_at: e.enrolledAt ?? null,
        last_auth_at: e.lastAuthAt ?? null,
        address: e.address ?? null,
        channel: e.channel ?? null,
      })
      .execute();
  };
  const dropPending = async (userId: string, type: MfaEnrolmentType): Promise<void> => {
    await db
      .deleteFrom('mfa_enrolments')
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('type', '=', type)
      .where('confirmed', '=', 0)
      .execute();
  };

  return {
    insert,
    /** The user's confirmed enrolments, oldest first. */
    async listConfirmed(userId: string, type?: MfaEnrolmentType): Promise<MfaEnrolment[]> {
      let query = ofUser(userId).where('confirmed', '=', 1);
      if (type !== undefined) query = query.where('type', '=', type);
      const rows = await query.orderBy('created_at').orderBy('id').execute();
      return rows.map(toEnrolment);
    },
    /** Every enrolment of the user, confirmed or pending, oldest first. */
    async listAll(userId: string): Promise<MfaEnrolment[]> {
      const rows = await ofUser(userId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toEnrolment);
    },
    /** An enrolment by id, whoever's it is (Auth0's /guardian/enrollments/{id}). */
    async findById(id: string): Promise<MfaEnrolment | undefined> {
      const row = await db
        .selectFrom('mfa_enrolments')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toEnrolment(row);
    },
    /** Deletes the user's enrolments, of `types` only when given; returns how many went. */
    async deleteForUser(userId: string, types?: readonly MfaEnrolmentType[]): Promise<number> {
      if (types?.length === 0) return 0;
      let query = db
        .deleteFrom('mfa_enrolments')
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId);
      if (types !== undefined) query = query.where('type', 'in', types);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async findForUser(userId: string, id: string): Promise<MfaEnrolment | undefined> {
      const row = await ofUser(userId).where('id', '=', id).executeTakeFirst();
      return row && toEnrolment(row);
    },
    /** Confirms a pending enrolment; false when it is gone or was confirmed already (a concurrent verify). */
    async confirm(userId: string, id: string, at: string): Promise<boolean> {
      const result = await db
        .updateTable('mfa_enrolments')
        .set({ confirmed: 1, enrolled_at: at, last_auth_at: at })
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .where('confirmed', '=', 0)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    /**
     * Stores a pending enrolment in place of the user's previous pending one of its type: only the latest
     * stays pending, so abandoned ones do not pile up. Run it inside the caller's transaction.
     */
    async replacePending(e: MfaEnrolment): Promise<void> {
      await dropPending(e.userId, e.type);
      await insert(e);
    },
    /** Drops the user's enrolments of `type` that were started but never verified. */
    deleteUnconfirmed: dropPending,
    /** The method answered a challenge at `at` (its `last_auth_at`). */
    async touch(userId: string, id: string, at: string): Promise<void> {
      await db
        .updateTable('mfa_enrolments')
        .set({ last_auth_at: at })
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .execute();
    },
    async rename(userId: string, id: string, name: string): Promise<boolean> {
      const result = await db
        .updateTable('mfa_enrolments')
        .set({ name })
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .where('confirmed', '=', 1)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    /** Changes a confirmed enrolment's name and, for a phone, its preferred channel; false when it is gone. */
    async update(
      userId: string,
      id: string,
      patch: { readonly name?: string | undefined; readonly channel?: 'sms' | 'voice' | undefined },
    ): Promise<boolean> {
      const result = await db
        .updateTable('mfa_enrolments')
        .set({
          ...(patch.name === undefined ? {} : { name: patch.name }),
          ...(patch.channel === undefined ? {} : { channel: patch.channel }),
        })
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .where('confirmed', '=', 1)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async delete(userId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('mfa_enrolments')
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
export type MfaEnrolmentRepository = ReturnType<typeof createMfaEnrolmentRepository>;
