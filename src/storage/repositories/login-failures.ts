import { sql } from 'kysely';
import type { DbOrTx } from '../db.js';
import { precompiled, type CompiledQueries } from '../precompiled.js';

/**
 * Failed password sign-ins per subject and IP: the subject is the user id of the account a login name
 * belongs to, or the login name itself when no account has it, so both are blocked alike.
 */
export function createLoginFailureRepository(db: DbOrTx, tenantId: string, compiled: CompiledQueries) {
  const shared = (key: string) => ({ cache: compiled, key: `loginFailures.${key}` });
  // Every password sign-in reserves an attempt and, when the password was right, clears the pair: compiled once.
  const reserveQuery = precompiled(
    db,
    4,
    (subject: string, ip: string, now: number, staleBefore: number) => {
      const stale = sql<boolean>`(login_failures.window_start < ${staleBefore} or login_failures.blocked_until <= ${now})`;
      const activeBlock = sql<boolean>`login_failures.blocked_until is not null`;
      return db
        .insertInto('login_failures')
        .values({
          tenant_id: tenantId,
          subject,
          ip,
          failures: 1,
          window_start: now,
          blocked_until: null,
        })
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'subject', 'ip']).doUpdateSet({
            failures: sql<number>`case when ${stale} then 1 when ${activeBlock} then login_failures.failures else login_failures.failures + 1 end`,
            window_start: sql<number>`case when ${stale} then ${now} else login_failures.window_start end`,
            blocked_until: sql<number>`case when ${stale} then null else login_failures.blocked_until end`,
          }),
        )
        .returning(['failures', 'blocked_until']);
    },
    shared('reserve'),
  );
  const clearPairQuery = precompiled(
    db,
    2,
    (subject: string, ip: string) =>
      db
        .deleteFrom('login_failures')
        .where('tenant_id', '=', tenantId)
        .where('subject', '=', subject)
        .where('ip', '=', ip),
    shared('clearPair'),
  );
  return {
    /**
     * Atomically counts one attempt for the pair before its password is checked, so parallel requests
     * cannot all pass a check made before any of them failed. A window or block that has run out starts over;
     * an active block is left as it is.
     * @returns whether the attempt may be evaluated: the pair is not blocked and at most `limit` attempts
     * are counted in the window.
     */
    async reserveAttempt(
      subject: string,
      ip: string,
      now: number,
      windowSeconds: number,
      limit: number,
    ): Promise<boolean> {
      const [r] = (await reserveQuery(subject, ip, now, now - windowSeconds)).rows;
      if (!r) throw new Error('login_failures: the upsert returned no row');
      return r.blocked_until === null && r.failures <= limit;
    },
    /**
     * Confirms that a reserved attempt failed: blocks the pair once the window holds `limit` failures.
     */
    async recordFailure(
      subject: string,
      ip: string,
      now: number,
      limit: number,
      blockSeconds: number,
    ): Promise<void> {
      await db
        .updateTable('login_failures')
        .set({ blocked_until: now + blockSeconds })
        .where('tenant_id', '=', tenantId)
        .where('subject', '=', subject)
        .where('ip', '=', ip)
        .where('failures', '>=', limit)
        .where('blocked_until', 'is', null)
        .execute();
    },
    async clear(subject: string, ip?: string): Promise<void> {
      if (ip !== undefined) {
        await clearPairQuery(subject, ip);
        return;
      }
      const q = db
        .deleteFrom('login_failures')
        .where('tenant_id', '=', tenantId)
        .where('subject', '=', subject);
      await q.execute();
    },
    /** The active blocks of each of `subjects`. */
    async blocksFor(
      subjects: readonly string[],
      now: number,
    ): Promise<{ subject: string; ip: string; blockedUntil: number }[]> {
      if (subjects.length === 0) return [];
      const rows = await db
        .selectFrom('login_failures')
        .select(['subject', 'ip', 'blocked_until'])
        .where('tenant_id', '=', tenantId)
        .where('subject', 'in', subjects)
        .where('blocked_until', '>', now)
        .orderBy('subject')
        .orderBy('ip')
        .execute();
      return rows.map((r) => ({ subject: r.subject, ip: r.ip, blockedUntil: Number(r.blocked_until) }));
    },
    /**
     * Forgets pairs whose window and block have both run out: they would start over at their next attempt
     * anyway, and login names without accounts would otherwise pile up.
     */
    async prune(now: number, windowSeconds: number): Promise<void> {
      await db
        .deleteFrom('login_failures')
        .where('tenant_id', '=', tenantId)
        .where('window_start', '<', now - windowSeconds)
        .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<=', now)]))
        .execute();
    },
  };
}
export type LoginFailureRepository = ReturnType<typeof createLoginFailureRepository>;
