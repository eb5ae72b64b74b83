import type { DbOrTx, DialectName } from '../db.js';
import type { Tenant } from '../../domain/tenant.js';
import { fromJson, toJson } from '../json.js';

export function createTenantRepository(db: DbOrTx, tenantId: string, dialect: DialectName) {
  return {
    /**
     * Inside a transaction: holds the tenant row until commit, so read-modify-write sequences on
     * tenant-wide state (key rotation) run one at a time across nodes. SQLite already serialises writers.
     */
    async lock(): Promise<void> {
      if (dialect !== 'postgres') return;
      await db.selectFrom('tenants').select('id').where('id', '=', tenantId).forUpdate().execute();
    },
    /** @returns the tenant, or undefined when it does not exist yet. */
    async find(): Promise<Tenant | undefined> {
      const row = await db.selectFrom('tenants').selectAll().where('id', '=', tenantId).executeTakeFirst();
      return (
        row && {
          id: row.id,
          settings: fromJson(row.settings),
          bootstrapClientId: row.bootstrap_client_id ?? undefined,
        }
      );
    },
    /** Creates the tenant if missing; leaves an existing one untouched. */
    async ensure(settings: Record<string, unknown>, now: string): Promise<void> {
      await db
        .insertInto('tenants')
        .values({ id: tenantId, settings: toJson(settings), bootstrap_client_id: null, created_at: now })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },
    async updateSettings(settings: Readonly<Record<string, unknown>>): Promise<void> {
      await db
        .updateTable('tenants')
        .set({ settings: toJson(settings) })
        .where('id', '=', tenantId)
        .execute();
    },
    async setBootstrapClientId(clientId: string): Promise<void> {
      await db
        .updateTable('tenants')
        .set({ bootstrap_client_id: clientId })
        .where('id', '=', tenantId)
        .execute();
    },
  };
}
export type TenantRepository = ReturnType<typeof createTenantRepository>;
