import type { Selectable } from 'kysely';
import type { DeviceCredential } from '../../domain/device-credential.js';
import type { DbOrTx } from '../db.js';
import type { DeviceCredentialsTable } from '../schema.js';

const toCredential = (r: Selectable<DeviceCredentialsTable>): DeviceCredential => ({
  id: r.id,
  userId: r.user_id,
  clientId: r.client_id,
  deviceId: r.device_id,
  deviceName: r.device_name,
  type: 'public_key',
  value: r.value,
  createdAt: r.created_at,
});

/** Public keys of users' devices; a second key for the same user, application and device violates the unique index. */
export function createDeviceCredentialRepository(db: DbOrTx, tenantId: string) {
  return {
    async insert(c: DeviceCredential): Promise<void> {
      await db
        .insertInto('device_credentials')
        .values({
          tenant_id: tenantId,
          id: c.id,
          user_id: c.userId,
          client_id: c.clientId,
          device_id: c.deviceId,
          device_name: c.deviceName,
          type: c.type,
          value: c.value,
          created_at: c.createdAt,
        })
        .execute();
    },
    /** Up to `limit` keys matching the filters, oldest first. */
    async list(filter: { userId?: string; clientId?: string }, limit: number): Promise<DeviceCredential[]> {
      let q = db.selectFrom('device_credentials').selectAll().where('tenant_id', '=', tenantId);
      if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
      if (filter.clientId !== undefined) q = q.where('client_id', '=', filter.clientId);
      const rows = await q.orderBy('created_at').orderBy('id').limit(limit).execute();
      return rows.map(toCredential);
    },
    async findById(id: string): Promise<DeviceCredential | undefined> {
      const row = await db
        .selectFrom('device_credentials')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toCredential(row);
    },
    async delete(id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('device_credentials')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
export type DeviceCredentialRepository = ReturnType<typeof createDeviceCredentialRepository>;
