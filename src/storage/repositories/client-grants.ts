import type { Selectable } from 'kysely';
import type { DbOrTx } from '../db.js';
import type { ClientGrantsTable } from '../schema.js';
import type { ClientGrant } from '../../domain/client-grant.js';
import type { SubjectType } from '../../domain/access-policy.js';
import { fromBool, fromJson, toBool, toJson } from '../json.js';
import type { Page } from './resource-servers.js';

export interface ClientGrantFilter {
  readonly audience?: string;
  readonly clientId?: string;
  readonly subjectType?: SubjectType;
  readonly defaultFor?: 'third_party_clients';
  readonly allowAnyOrganization?: boolean;
}

export function createClientGrantRepository(db: DbOrTx, tenantId: string) {
  const toRecord = (row: Selectable<ClientGrantsTable>): ClientGrant => ({
    tenantId: row.tenant_id,
    id: row.id,
    clientId: row.client_id,
    audience: row.audience,
    scope: fromJson(row.scope),
    subjectType: row.subject_type as SubjectType,
    defaultFor: row.default_for as ClientGrant['defaultFor'],
    allowAllScopes: toBool(row.allow_all_scopes),
    organizationUsage: row.organization_usage as ClientGrant['organizationUsage'],
    allowAnyOrganization: row.allow_any_organization === null ? null : toBool(row.allow_any_organization),
    authorizationDetailsTypes: fromJson(row.authorization_details_types),
    isSystem: toBool(row.is_system),
    createdAt: row.created_at,
  });
  const toRow = (g: ClientGrant): Selectable<ClientGrantsTable> => ({
    tenant_id: g.tenantId,
    id: g.id,
    client_id: g.clientId,
    audience: g.audience,
    scope: toJson(g.scope),
    subject_type: g.subjectType,
    default_for: g.defaultFor,
    allow_all_scopes: fromBool(g.allowAllScopes),
    organization_usage: g.organizationUsage,
    allow_any_organization: g.allowAnyOrganization === null ? null : fromBool(g.allowAnyOrganization),
    authorization_details_types: toJson(g.authorizationDetailsTypes),
    is_system: fromBool(g.isSystem),
    created_at: g.createdAt,
  });
  const filtered = (filter: ClientGrantFilter) => {
    let q = db.selectFrom('client_grants').where('tenant_id', '=', tenantId);
    if (filter.audience !== undefined) q = q.where('audience', '=', filter.audience);
    if (filter.clientId !== undefined) q = q.where('client_id', '=', filter.clientId);
    if (filter.subjectType !== undefined) q = q.where('subject_type', '=', filter.subjectType);
    if (filter.defaultFor !== undefined) q = q.where('default_for', '=', filter.defaultFor);
    if (filter.allowAnyOrganization === true) q = q.where('allow_any_organization', '=', 1);
    return q;
  };

  return {
    async findById(id: string): Promise<ClientGrant | undefined> {
      const row = await db
        .selectFrom('client_grants')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    /** Grants that can apply to this client on this audience: its own and the third-party defaults. */
    async listForClientAndAudience(clientId: string, audience: string): Promise<ClientGrant[]> {
      const rows = await db
        .selectFrom('client_grants')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('audience', '=', audience)
        .where((eb) => eb.or([eb('client_id', '=', clientId), eb('default_for', 'is not', null)]))
        .execute();
      return rows.map(toRecord);
    },
    async list(filter: ClientGrantFilter, page: Page, afterId?: string): Promise<ClientGrant[]> {
      let q = filtered(filter).selectAll();
      if (afterId !== undefined) q = q.where('id', '>', afterId);
      const rows = await q.orderBy('id').limit(page.limit).offset(page.offset).execute();
      return rows.map(toRecord);
    },
    async count(filter: ClientGrantFilter): Promise<number> {
      const row = await filtered(filter)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    /** @throws the driver's unique violation for a duplicate client+audience+subject_type. */
    async insert(grant: ClientGrant): Promise<void> {
      await db
        .insertInto('client_grants')
        .values({ ...toRow(grant), tenant_id: tenantId })
        .execute();
    },
    async update(grant: ClientGrant): Promise<void> {
      const { tenant_id: _t, id: _i, ...rest } = toRow(grant);
      await db
        .updateTable('client_grants')
        .set(rest)
        .where('tenant_id', '=', tenantId)
        .where('id', '=', grant.id)
        .execute();
    },
    async delete(id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('client_grants')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
    async deleteByAudience(audience: string): Promise<void> {
      await db
        .deleteFrom('client_grants')
        .where('tenant_id', '=', tenantId)
        .where('audience', '=', audience)
        .execute();
    },
  };
}
export type ClientGrantRepository = ReturnType<typeof createClientGrantRepository>;
