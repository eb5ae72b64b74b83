import type { DbOrTx } from '../db.js';
import { precompiled, type CompiledQueries } from '../precompiled.js';

/** One-time values in SQL, for nodes without Redis: each key can be put once and taken once. */
export function createOneTimeValueRepository(db: DbOrTx, tenantId: string, compiled: CompiledQueries) {
  const shared = (key: string) => ({ cache: compiled, key: `oneTimeValues.${key}` });
  // Every sign-in, authorization code, auth_session and DPoP proof goes through these three: compiled once.
  const putQuery = precompiled(
    db,
    4,
    (key: string, value: string, expiresAt: number, now: number) =>
      db
        .insertInto('one_time_values')
        .values({ tenant_id: tenantId, key, value, expires_at: expiresAt })
        .onConflict((oc) =>
          oc
            .columns(['tenant_id', 'key'])
            .doUpdateSet({ value, expires_at: expiresAt })
            .where('one_time_values.expires_at', '<=', now),
        ),
    shared('put'),
  );
  const peekQuery = precompiled(
    db,
    2,
    (key: string, now: number) =>
      db
        .selectFrom('one_time_values')
        .select('value')
        .where('tenant_id', '=', tenantId)
        .where('key', '=', key)
        .where('expires_at', '>', now),
    shared('peek'),
  );
  const takeQuery = precompiled(
    db,
    1,
    (key: string) =>
      db
        .deleteFrom('one_time_values')
        .where('tenant_id', '=', tenantId)
        .where('key', '=', key)
        .returning(['value', 'expires_at']),
    shared('take'),
  );
  return {
    /**
     * Stores `value` under `key` until `expiresAt` (epoch seconds), replacing an entry of that key that has
     * expired but was not swept yet.
     * @returns false when the key is held by a live entry (a replay).
     */
    async put(key: string, value: string, expiresAt: number, now: number): Promise<boolean> {
      const result = await putQuery(key, value, expiresAt, now);
      return (result.numAffectedRows ?? 0n) > 0n;
    },
    /** Deletes the entries that expired by `now`. */
    async sweep(now: number): Promise<void> {
      await db
        .deleteFrom('one_time_values')
        .where('tenant_id', '=', tenantId)
        .where('expires_at', '<=', now)
        .execute();
    },
    /** The live value of `key`, left in place; undefined when absent or expired. */
    async peek(key: string, now: number): Promise<string | undefined> {
      const [row] = (await peekQuery(key, now)).rows;
      return row?.value;
    },
    /** Removes and returns the value of `key` in one statement; undefined when absent or expired. */
    async take(key: string, now: number): Promise<string | undefined> {
      const [row] = (await takeQuery(key)).rows;
      return row && row.expires_at > now ? row.value : undefined;
    },
  };
}
export type OneTimeValueRepository = ReturnType<typeof createOneTimeValueRepository>;
