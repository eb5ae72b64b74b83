import type { Selectable } from 'kysely';
import type { DbOrTx } from '../db.js';
import type { ResourceServersTable } from '../schema.js';
import type { ResourceServer, SigningAlg, TokenDialect } from '../../domain/resource-server.js';
import type { ClientPolicy, UserPolicy } from '../../domain/access-policy.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { fromBool, fromJson, toBool, toJson } from '../json.js';

export interface Page {
  readonly offset: number;
  readonly limit: number;
}

export function createResourceServerRepository(db: DbOrTx, tenantId: string, box: SecretBox) {
  const toRecord = (row: Selectable<ResourceServersTable>): ResourceServer => ({
    tenantId: row.tenant_id,
    id: row.id,
    identifier: row.identifier,
    name: row.name,
    isSystem: toBool(row.is_system),
    scopes: fromJson(row.scopes),
    signingAlg: row.signing_alg as SigningAlg,
    signingSecret: row.signing_secret === null ? undefined : box.open(row.signing_secret),
    allowOfflineAccess: toBool(row.allow_offline_access),
    skipConsentForVerifiableFirstPartyClients: toBool(row.skip_consent),
    tokenLifetime: row.token_lifetime,
    tokenLifetimeForWeb: row.token_lifetime_for_web,
    enforcePolicies: toBool(row.enforce_policies),
    tokenDialect: row.token_dialect as TokenDialect,
    userPolicy: row.user_policy as UserPolicy,
    clientPolicy: row.client_policy as ClientPolicy,
    extra: fromJson(row.extra),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  const toRow = (rs: ResourceServer): Selectable<ResourceServersTable> => ({
    tenant_id: rs.tenantId,
    id: rs.id,
    identifier: rs.identifier,
    name: rs.name,
    is_system: fromBool(rs.isSystem),
    scopes: toJson(rs.scopes),
    signing_alg: rs.signingAlg,
    signing_secret: rs.signingSecret === undefined ? null : box.seal(rs.signingSecret),
    allow_offline_access: fromBool(rs.allowOfflineAccess),
    skip_consent: fromBool(rs.skipConsentForVerifiableFirstPartyClients),
    token_lifetime: rs.tokenLifetime,
    token_lifetime_for_web: rs.tokenLifetimeForWeb,
    enforce_policies: fromBool(rs.enforcePolicies),
    token_dialect: rs.tokenDialect,
    user_policy: rs.userPolicy,
    client_policy: rs.clientPolicy,
    extra: toJson(rs.extra),
    created_at: rs.createdAt,
    updated_at: rs.updatedAt,
  });
  const base = () => db.selectFrom('resource_servers').selectAll().where('tenant_id', '=', tenantId);

  return {
    async findById(id: string): Promise<ResourceServer | undefined> {
      const row = await base().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async findByIdentifier(identifier: string): Promise<ResourceServer | undefined> {
      const row = await base().where('identifier', '=', identifier).executeTakeFirst();
      return row && toRecord(row);
    },
    /** Lists in creation order; `identifiers` filters when non-empty. */
    async list(page: Page, identifiers: readonly string[] = []): Promise<ResourceServer[]> {
      let q = base();
      if (identifiers.length > 0) q = q.where('identifier', 'in', identifiers);
      const rows = await q
        .orderBy('created_at')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return rows.map(toRecord);
    },
    async count(identifiers: readonly string[] = []): Promise<number> {
      let q = db
        .selectFrom('resource_servers')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('tenant_id', '=', tenantId);
      if (identifiers.length > 0) q = q.where('identifier', 'in', identifiers);
      const row = await q.executeTakeFirstOrThrow();
      return Number(row.n);
    },
    /** @throws the driver's unique violation when the identifier exists (see isUniqueViolation). */
    async insert(rs: ResourceServer): Promise<void> {
      await db
        .insertInto('resource_servers')
        .values({ ...toRow(rs), tenant_id: tenantId })
        .execute();
    },
    async update(rs: ResourceServer): Promise<void> {
      const { tenant_id: _t, id: _i, ...rest } = toRow(rs);
      await db
        .updateTable('resource_servers')
        .set(rest)
        .where('tenant_id', '=', tenantId)
        .where('id', '=', rs.id)
        .execute();
    },
    async delete(id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('resource_servers')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
export type ResourceServerRepository = ReturnType<typeof createResourceServerRepository>;
