import type { DbOrTx } from '../db.js';

/** An identity, by the key its identities row has. */
export interface IdentityKey {
  readonly provider: string;
  readonly userId: string;
}

/** Hashes of the passwords an identity had before its current one, newest first. */
export function createPasswordHistoryRepository(db: DbOrTx, tenantId: string) {
  const of = (identity: IdentityKey) =>
    db
      .selectFrom('password_history')
      .where('tenant_id', '=', tenantId)
      .where('provider', '=', identity.provider)
      .where('identity_user_id', '=', identity.userId);
  return {
    /** The `limit` most recent previous password hashes of the identity, newest first. */
    async recent(identity: IdentityKey, limit: number): Promise<string[]> {
      if (limit <= 0) return [];
      const rows = await of(identity).select('password_hash').orderBy('seq', 'desc').limit(limit).execute();
      return rows.map((r) => r.password_hash);
    },
    /**
     * Remembers a replaced password hash and forgets all but the `keep` most recent ones. Call inside the
     * transaction that replaces the password, after locking the user (so the sequence cannot collide).
     */
    async add(identity: IdentityKey, passwordHash: string, at: string, keep: number): Promise<void> {
      const last = await of(identity)
        .select((eb) => eb.fn.max('seq').as('seq'))
        .executeTakeFirst();
      const seq = (last?.seq ?? 0) + 1;
      await db
        .insertInto('password_history')
        .values({
          tenant_id: tenantId,
          provider: identity.provider,
          identity_user_id: identity.userId,
          seq,
          password_hash: passwordHash,
          created_at: at,
        })
        .execute();
      await db
        .deleteFrom('password_history')
        .where('tenant_id', '=', tenantId)
        .where('provider', '=', identity.provider)
        .where('identity_user_id', '=', identity.userId)
        .where('seq', '<=', seq - keep)
        .execute();
    },
  };
}
export type PasswordHistoryRepository = ReturnType<typeof createPasswordHistoryRepository>;
