import type { Selectable } from 'kysely';
import type { DbOrTx } from '../db.js';
import type { RefreshTokensTable } from '../schema.js';
import type { RefreshTokenRecord } from '../../domain/refresh-token.js';
import { fromBool, fromJson, toBool, toJson } from '../json.js';

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
  });
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
        })
        .execute();
    },
    /**
     * Marks a token used by rotation, only if nobody else did first.
     * @returns false when another request rotated it concurrently.
     */
    async markRotated(id: string, at: number): Promise<boolean> {
      const r = await db
        .updateTable('refresh_tokens')
        .set({ rotated_at: at, last_used_at: at })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('rotated_at', 'is', null)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
    async touch(id: string, at: number, idleExpiresAt: number | undefined): Promise<void> {
      await db
        .updateTable('refresh_tokens')
        .set({ last_used_at: at, idle_expires_at: idleExpiresAt ?? null })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },
    async revokeFamily(familyId: string, at: number): Promise<void> {
      await db
        .updateTable('refresh_tokens')
        .set({ revoked_at: at })
        .where('tenant_id', '=', tenantId)
        .where('family_id', '=', familyId)
        .where('revoked_at', 'is', null)
        .execute();
    },
    async deleteByAudience(audience: string): Promise<void> {
      await db
        .deleteFrom('refresh_tokens')
        .where('tenant_id', '=', tenantId)
        .where('audience', '=', audience)
        .execute();
    },
    async revokeFor(userId: string, clientId: string, audience: string, at: number): Promise<void> {
      await db
        .updateTable('refresh_tokens')
        .set({ revoked_at: at })
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .where('audience', '=', audience)
        .where('revoked_at', 'is', null)
        .execute();
    },
  };
}
export type RefreshTokenRepository = ReturnType<typeof createRefreshTokenRepository>;
