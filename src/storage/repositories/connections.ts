import type { Selectable, SelectQueryBuilder } from 'kysely';
import type { DbOrTx } from '../db.js';
import type { ConnectionsTable, Database } from '../schema.js';
import type { Connection } from '../../domain/connection.js';
import { fromJson, toJson } from '../json.js';
import type { Page } from './resource-servers.js';

/** List filters (Auth0 docs, GET /api/v2/connections). */
export interface ConnectionFilter {
  /** strategy is one of these. */
  readonly strategies?: readonly string[];
  readonly name?: string;
}

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
  const toRow = (c: Connection): Selectable<ConnectionsTable> => ({
    tenant_id: c.tenantId,
    id: c.id,
    name: c.name,
    strategy: c.strategy,
    options: toJson(c.options),
    enabled_clients: toJson(c.enabledClients),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  });
  const base = () => db.selectFrom('connections').selectAll().where('tenant_id', '=', tenantId);
  const filtered = <O>(
    q: SelectQueryBuilder<Database, 'connections', O>,
    f: ConnectionFilter,
  ): SelectQueryBuilder<Database, 'connections', O> => {
    let out = q;
    if (f.strategies !== undefined && f.strategies.length > 0)
      out = out.where('strategy', 'in', f.strategies);
    if (f.name !== undefined) out = out.where('name', '=', f.name);
    return out;
  };
  return {
    async findByName(name: string): Promise<Connection | undefined> {
      const row = await base().where('name', '=', name).executeTakeFirst();
      return row && toRecord(row);
    },
    async findById(id: string): Promise<Connection | undefined> {
      const row = await base().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    /** Connections matching `filter` in id order, from `page` or after `afterId` (checkpoint paging). */
    async list(filter: ConnectionFilter, page: Page, afterId?: string): Promise<Connection[]> {
      let q = filtered(base(), filter);
      if (afterId !== undefined) q = q.where('id', '>', afterId);
      const rows = await q.orderBy('id').limit(page.limit).offset(page.offset).execute();
      return rows.map(toRecord);
    },
    async count(filter: ConnectionFilter): Promise<number> {
      const q = db
        .selectFrom('connections')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('tenant_id', '=', tenantId);
      return Number((await filtered(q, filter).executeTakeFirstOrThrow()).n);
    },
    /** Connections whose enabled_clients name the client (a tenant has few connections). */
    async enabledFor(clientId: string): Promise<Connection[]> {
      const rows = await base().orderBy('id').execute();
      return rows.map(toRecord).filter((c) => c.enabledClients.includes(clientId));
    },
    /** @throws the driver's unique violation for a duplicate name. */
    async insert(c: Connection): Promise<void> {
      await db
        .insertInto('connections')
        .values({ ...toRow(c), tenant_id: tenantId })
        .execute();
    },
    async update(c: Connection): Promise<void> {
      const { tenant_id: _t, id: _i, ...rest } = toRow(c);
      await db
        .updateTable('connections')
        .set(rest)
        .where('tenant_id', '=', tenantId)
        .where('id', '=', c.id)
        .execute();
    },
    async delete(id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('connections')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
export type ConnectionRepository = ReturnType<typeof createConnectionRepository>;
