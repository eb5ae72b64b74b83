import type { ExpressionBuilder, Selectable } from 'kysely';
import type { DbOrTx } from '../db.js';
import type { Database, RefreshTokensTable } from '../schema.js';
import type { RefreshTokenRecord, RevocationReason } from '../../domain/refresh-token.js';
import { fromBool, fromJson, toBool, toJson } from '../json.js';

/** Where a token was last used from, recorded on each use. */
export interface LastUse {
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
}

/** Neither revoked, nor used up by rotation, nor expired at `now`. */
function isActiveAt(now: number) {
  return (eb: ExpressionBuilder<Database, 'refresh_tokens'>) =>
    eb.and([
      eb('revoked_at', 'is', null),
      eb('rotated_at', 'is', null),
      eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]),
      eb.or([eb('idle_expires_at', 'is', null), eb('idle_expires_at', '>', now)]),
    ]);
}

export function createRefreshTokenRepository(db: DbOrTx, tenantId: string) {
  const toRecord = (r: Selectable<RefreshTokensTable>): RefreshTokenRecord => ({
    id: r.id,
    tokenHash: r.token_hash,
    familyId: r.family_id,
    userId: r.user_id,
    clientId: r.client_id,
    audience: r.audience,
    scope: fromJson(r.scope),
    rotating: toBool(r.rotating),
    createdAt: r.created_at,
    expiresAt: r.expires_at ?? undefined,
    idleExpiresAt: r.idle_expires_at ?? undefined,
    lastUsedAt: r.last_used_at ?? undefined,
    rotatedAt: r.rotated_at ?? undefined,
    revokedAt: r.revoked_at ?? undefined,
    revokedReason: (r.revoked_reason ?? undefined) as RevocationReason | undefined,
    device: {
      initialIp: r.initial_ip ?? undefined,
      initialUserAgent: r.initial_user_agent ?? undefined,
      lastIp: r.last_ip ?? undefined,
      lastUserAgent: r.last_user_agent ?? undefined,
    },
    ...(r.dpop_jkt ? { jkt: r.dpop_jkt } : {}),
    ...(r.amr ? { amr: JSON.parse(r.amr) as string[] } : {}),
  });
  const revoke = (at: number, reason: RevocationReason) =>
    db
      .updateTable('refresh_tokens')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('tenant_id', '=', tenantId)
      .where('revoked_at', 'is', null);
  return {
    async findByHash(hash: string): Promise<RefreshTokenRecord | undefined> {
      const row = await db
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('token_hash', '=', hash)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    /** The token with this id if it can still be exchanged at `now`. */
    async findActiveById(id: string, now: number): Promise<RefreshTokenRecord | undefined> {
      const row = await db
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where(isActiveAt(now))
        .executeTakeFirst();
      return row && toRecord(row);
    },
    /** Up to `limit` of the user's exchangeable tokens after the id `afterId`, in id order (checkpoint paging). */
    async listActiveForUser(
      userId: string,
      now: number,
      afterId: string | undefined,
      limit: number,
    ): Promise<RefreshTokenRecord[]> {
      let q = db
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where(isActiveAt(now));
      if (afterId !== undefined) q = q.where('id', '>', afterId);
      const rows = await q.orderBy('id').limit(limit).execute();
      return rows.map(toRecord);
    },
    async insert(t: RefreshTokenRecord): Promise<void> {
      await db
        .insertInto('refresh_tokens')
        .values({
          tenant_id: tenantId,
          id: t.id,
          token_hash: t.tokenHash,
          family_id: t.familyId,
          user_id: t.userId,
          client_id: t.clientId,
          audience: t.audience,
          scope: toJson(t.scope),
          rotating: fromBool(t.rotating),
          created_at: t.createdAt,
          expires_at: t.expiresAt ?? null,
          idle_expires_at: t.idleExpiresAt ?? null,
          last_used_at: t.lastUsedAt ?? null,
          rotated_at: t.rotatedAt ?? null,
          revoked_at: t.revokedAt ?? null,
          revoked_reason: t.revokedReason ?? null,
          initial_ip: t.device.initialIp ?? null,
          initial_user_agent: t.device.initialUserAgent ?? null,
          last_ip: t.device.lastIp ?? null,
          last_user_agent: t.device.lastUserAgent ?? null,
          dpop_jkt: t.jkt ?? null,
          amr: t.amr === undefined ? null : JSON.stringify(t.amr),
        })
        .execute();
    },
    /**
     * Marks a token used by rotation, only if nobody else did first (nor revoked it meanwhile).
     * @returns false when another request rotated or revoked it concurrently.
     */
    async markRotated(id: string, at: number): Promise<boolean> {
      const r = await db
        .updateTable('refresh_tokens')
        .set({ rotated_at: at, last_used_at: at })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('rotated_at', 'is', null)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
    async touch(id: string, at: number, idleExpiresAt: number | undefined, from: LastUse): Promise<void> {
      await db
        .updateTable('refresh_tokens')
        .set({
          last_used_at: at,
          idle_expires_at: idleExpiresAt ?? null,
          last_ip: from.ip ?? null,
          last_user_agent: from.userAgent ?? null,
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },
    async revokeFamily(familyId: string, at: number, reason: RevocationReason): Promise<void> {
      await revoke(at, reason).where('family_id', '=', familyId).execute();
    },
    /** Every token of the user, whatever client and API it was issued for. */
    async revokeForUser(userId: string, at: number, reason: RevocationReason): Promise<void> {
      await revoke(at, reason).where('user_id', '=', userId).execute();
    },
    /** Every token the user gave the client, whatever API it was issued for. */
    async revokeForUserAndClient(
      userId: string,
      clientId: string,
      at: number,
      reason: RevocationReason,
    ): Promise<void> {
      await revoke(at, reason).where('user_id', '=', userId).where('client_id', '=', clientId).execute();
    },
    async deleteByAudience(audience: string): Promise<void> {
      await db
        .deleteFrom('refresh_tokens')
        .where('tenant_id', '=', tenantId)
        .where('audience', '=', audience)
        .execute();
    },
  };
}
export type RefreshTokenRepository = ReturnType<typeof createRefreshTokenRepository>;
