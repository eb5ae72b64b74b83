import type { Selectable } from 'kysely';
import type { DbOrTx } from '../db.js';
import type { ConnectionsTable } from '../schema.js';
import type { Connection } from '../../domain/connection.js';
import { fromJson, toJson } from '../json.js';

export function createConnectionRepository(db: DbOrTx, tenantId: string) {
  const toRecord = (row: Selectable<ConnectionsTable>): Connection => ({
    tenantId: row.tenant_id,
    id: row.id,
    name: row.name,
    strategy: row.strategy,
    options: fromJson(row.options),
    enabledClients: fromJson(row.enabled_clients),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  return {
    async findByName(name: string): Promise<Connection | undefined> {
      const row = await db
        .selectFrom('connections')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async insert(c: Connection): Promise<void> {
      await db
        .insertInto('connections')
        .values({
          tenant_id: c.tenantId,
          id: c.id,
          name: c.name,
          strategy: c.strategy,
          options: toJson(c.options),
          enabled_clients: toJson(c.enabledClients),
          created_at: c.createdAt,
          updated_at: c.updatedAt,
        })
        .execute();
    },
  };
}
export type ConnectionRepository = ReturnType<typeof createConnectionRepository>;
