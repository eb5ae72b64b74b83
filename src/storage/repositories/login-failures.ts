import type { DbOrTx } from '../db.js';

export interface FailureState {
  readonly failures: number;
  readonly blockedUntil: number | undefined;
}

export function createLoginFailureRepository(db: DbOrTx, tenantId: string) {
  const row = (userId: string, ip: string) =>
    db
      .selectFrom('login_failures')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('ip', '=', ip);
  return {
    async get(userId: string, ip: string): Promise<FailureState | undefined> {
      const r = await row(userId, ip).executeTakeFirst();
      return r && { failures: r.failures, blockedUntil: r.blocked_until ?? undefined };
    },
    /**
     * Counts one failure in the window; blocks the pair once `limit` is reached.
     * @returns the state after this failure.
     */
    async recordFailure(
      userId: string,
      ip: string,
      now: number,
      windowSeconds: number,
      limit: number,
      blockSeconds: number,
    ): Promise<FailureState> {
      const current = await row(userId, ip).executeTakeFirst();
      const fresh = !current || now - current.window_start > windowSeconds;
      const failures = fresh ? 1 : current.failures + 1;
      const blockedUntil = failures >= limit ? now + blockSeconds : (current?.blocked_until ?? null);
      if (!current) {
        await db
          .insertInto('login_failures')
          .values({
            tenant_id: tenantId,
            user_id: userId,
            ip,
            failures,
            window_start: now,
            blocked_until: blockedUntil,
          })
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'user_id', 'ip']).doUpdateSet({ failures, blocked_until: blockedUntil }),
          )
          .execute();
      } else {
        await db
          .updateTable('login_failures')
          .set({ failures, window_start: fresh ? now : current.window_start, blocked_until: blockedUntil })
          .where('tenant_id', '=', tenantId)
          .where('user_id', '=', userId)
          .where('ip', '=', ip)
          .execute();
      }
      return { failures, blockedUntil: blockedUntil ?? undefined };
    },
    async clear(userId: string, ip?: string): Promise<void> {
      let q = db.deleteFrom('login_failures').where('tenant_id', '=', tenantId).where('user_id', '=', userId);
      if (ip !== undefined) q = q.where('ip', '=', ip);
      await q.execute();
    },
    async blocksFor(userId: string, now: number): Promise<{ ip: string; blockedUntil: number }[]> {
      const rows = await db
        .selectFrom('login_failures')
        .select(['ip', 'blocked_until'])
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('blocked_until', '>', now)
        .execute();
      return rows.map((r) => ({ ip: r.ip, blockedUntil: Number(r.blocked_until) }));
    },
  };
}
export type LoginFailureRepository = ReturnType<typeof createLoginFailureRepository>;
