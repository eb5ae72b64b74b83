import type { DbOrTx } from '../db.js';

/** One-time values in SQL, for nodes without Redis: each key can be put once and taken once. */
export function createOneTimeValueRepository(db: DbOrTx, tenantId: string) {
  return {
    /**
     * Stores `value` under `key` until `expiresAt` (epoch seconds); expired entries are cleared first.
     * @returns false when the key is already held (a replay).
     */
    async put(key: string, value: string, expiresAt: number, now: number): Promise<boolean> {
      await db
        .deleteFrom('one_time_values')
        .where('tenant_id', '=', tenantId)
        .where('expires_at', '<=', now)
        .execute();
      const result = await db
        .insertInto('one_time_values')
        .values({ tenant_id: tenantId, key, value, expires_at: expiresAt })
        .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },
    /** Removes and returns the value of `key` in one statement; undefined when absent or expired. */
    async take(key: string, now: number): Promise<string | undefined> {
      const row = await db
        .deleteFrom('one_time_values')
        .where('tenant_id', '=', tenantId)
        .where('key', '=', key)
        .returning(['value', 'expires_at'])
        .executeTakeFirst();
      return row && row.expires_at > now ? row.value : undefined;
    },
  };
}
export type OneTimeValueRepository = ReturnType<typeof createOneTimeValueRepository>;
