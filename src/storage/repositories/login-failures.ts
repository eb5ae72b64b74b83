import { sql } from 'kysely';
import type { DbOrTx } from '../db.js';

export function createLoginFailureRepository(db: DbOrTx, tenantId: string) {
  return {
    /**
     * Atomically counts one attempt for the pair before its password is checked, so parallel requests
     * cannot all pass a check made before any of them failed. A window or block that has run out starts over;
     * an active block is left as it is.
     * @returns whether the attempt may be evaluated: the pair is not blocked and at most `limit` attempts
     * are counted in the window.
     */
    async reserveAttempt(
      userId: string,
      ip: string,
      now: number,
      windowSeconds: number,
      limit: number,
    ): Promise<boolean> {
      const stale = sql<boolean>`(login_failures.window_start < ${now - windowSeconds} or login_failures.blocked_until <= ${now})`;
      const activeBlock = sql<boolean>`login_failures.blocked_until is not null`;
      const r = await db
        .insertInto('login_failures')
        .values({
          tenant_id: tenantId,
          user_id: userId,
          ip,
          failures: 1,
          window_start: now,
          blocked_until: null,
        })
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'user_id', 'ip']).doUpdateSet({
            failures: sql<number>`case when ${stale} then 1 when ${activeBlock} then login_failures.failures else login_failures.failures + 1 end`,
            window_start: sql<number>`case when ${stale} then ${now} else login_failures.window_start end`,
            blocked_until: sql<number>`case when ${stale} then null else login_failures.blocked_until end`,
          }),
        )
        .returning(['failures', 'blocked_until'])
        .executeTakeFirstOrThrow();
      return r.blocked_until === null && r.failures <= limit;
    },
    /**
     * Confirms that a reserved attempt failed: blocks the pair once the window holds `limit` failures.
     */
    async recordFailure(
      userId: string,
      ip: string,
      now: number,
      limit: number,
      blockSeconds: number,
    ): Promise<void> {
      await db
        .updateTable('login_failures')
        .set({ blocked_until: now + blockSeconds })
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .where('ip', '=', ip)
        .where('failures', '>=', limit)
        .where('blocked_until', 'is', null)
        .execute();
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
