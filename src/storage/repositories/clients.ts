import { sql, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { DbOrTx } from '../db.js';
import type { ClientCredentialsTable, ClientsTable, Database } from '../schema.js';
import type { Client, ClientCredential, TokenEndpointAuthMethod } from '../../domain/client.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { fromBool, fromJson, toBool, toJson } from '../json.js';
import type { Page } from './resource-servers.js';

/** List filters that run in SQL (spec 4.7: GET /clients). */
export interface ClientFilter {
  /** app_type is one of these. */
  readonly appTypes?: readonly string[];
  readonly isFirstParty?: boolean;
  /** Holds a client grant with allow_any_organization (Auth0's `q=client_grant.allow_any_organization:true`). */
  readonly withAnyOrganizationGrant?: boolean;
}

export function createClientRepository(db: DbOrTx, tenantId: string, box: SecretBox) {
  const toRecord = (row: Selectable<ClientsTable>): Client => ({
    tenantId: row.tenant_id,
    clientId: row.client_id,
    clientSecret: box.open(row.client_secret),
    name: row.name,
    appType: row.app_type ?? undefined,
    isFirstParty: toBool(row.is_first_party),
    isSystem: toBool(row.is_system),
    tokenEndpointAuthMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod | null,
    privateKeyJwtCredentialIds: fromJson(row.private_key_jwt_credentials),
    grantTypes: fromJson(row.grant_types),
    settings: fromJson(row.settings),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  const toRow = (c: Client): Selectable<ClientsTable> => ({
    tenant_id: c.tenantId,
    client_id: c.clientId,
    client_secret: box.seal(c.clientSecret),
    name: c.name,
    app_type: c.appType ?? null,
    is_first_party: fromBool(c.isFirstParty),
    is_system: fromBool(c.isSystem),
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    private_key_jwt_credentials: toJson(c.privateKeyJwtCredentialIds),
    grant_types: toJson(c.grantTypes),
    settings: toJson(c.settings),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  });
  const credentialToRecord = (row: Selectable<ClientCredentialsTable>): ClientCredential => ({
    id: row.id,
    clientId: row.client_id,
    name: row.name,
    credentialType: 'public_key',
    pem: row.pem,
    alg: row.alg as ClientCredential['alg'],
    kid: row.kid,
    thumbprint: row.thumbprint,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at ?? undefined,
  });
  const base = () => db.selectFrom('clients').selectAll().where('tenant_id', '=', tenantId);
  const filtered = <O>(
    q: SelectQueryBuilder<Database, 'clients', O>,
    f: ClientFilter,
  ): SelectQueryBuilder<Database, 'clients', O> => {
    let out = q;
    if (f.appTypes !== undefined) {
      out =
        f.appTypes.length === 0 ? out.where(sql<boolean>`1 = 0`) : out.where('app_type', 'in', f.appTypes);
    }
    if (f.isFirstParty !== undefined) out = out.where('is_first_party', '=', fromBool(f.isFirstParty));
    if (f.withAnyOrganizationGrant === true) {
      out = out.where((eb) =>
        eb.exists(
          eb
            .selectFrom('client_grants')
            .select('client_grants.id')
            .where('client_grants.tenant_id', '=', tenantId)
            .whereRef('client_grants.client_id', '=', 'clients.client_id')
            .where('client_grants.allow_any_organization', '=', 1),
        ),
      );
    }
    return out;
  };

  return {
    async findById(clientId: string): Promise<Client | undefined> {
      const row = await base().where('client_id', '=', clientId).executeTakeFirst();
      return row && toRecord(row);
    },
    /** Clients matching `filter`, oldest first, from `page`. */
    async list(filter: ClientFilter, page: Page): Promise<Client[]> {
      const rows = await filtered(base(), filter)
        .orderBy('created_at')
        .orderBy('client_id')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return rows.map(toRecord);
    },
    /** Up to `limit` clients matching `filter` in client_id order after `afterId` (checkpoint paging). */
    async listAfter(filter: ClientFilter, afterId: string | undefined, limit: number): Promise<Client[]> {
      let q = filtered(base(), filter);
      if (afterId !== undefined) q = q.where('client_id', '>', afterId);
      const rows = await q.orderBy('client_id').limit(limit).execute();
      return rows.map(toRecord);
    },
    async count(filter: ClientFilter = {}): Promise<number> {
      const q = db
        .selectFrom('clients')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('tenant_id', '=', tenantId);
      const row = await filtered(q, filter).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async insert(client: Client): Promise<void> {
      await db
        .insertInto('clients')
        .values({ ...toRow(client), tenant_id: tenantId })
        .execute();
    },
    async update(client: Client): Promise<void> {
      const { tenant_id: _t, client_id: _c, ...rest } = toRow(client);
      await db
        .updateTable('clients')
        .set(rest)
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', client.clientId)
        .execute();
    },
    /** Deletes the client with its credentials and grants. */
    async delete(clientId: string): Promise<boolean> {
      await db
        .deleteFrom('client_credentials')
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', clientId)
        .execute();
      await db
        .deleteFrom('client_grants')
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', clientId)
        .execute();
      const result = await db
        .deleteFrom('clients')
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
    async listCredentials(clientId: string): Promise<ClientCredential[]> {
      const rows = await db
        .selectFrom('client_credentials')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', clientId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(credentialToRecord);
    },
    async findCredential(clientId: string, id: string): Promise<ClientCredential | undefined> {
      const row = await db
        .selectFrom('client_credentials')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', clientId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && credentialToRecord(row);
    },
    async insertCredential(credential: ClientCredential): Promise<void> {
      await db
        .insertInto('client_credentials')
        .values({
          tenant_id: tenantId,
          id: credential.id,
          client_id: credential.clientId,
          name: credential.name,
          credential_type: credential.credentialType,
          pem: credential.pem,
          alg: credential.alg,
          kid: credential.kid,
          thumbprint: credential.thumbprint,
          created_at: credential.createdAt,
          updated_at: credential.updatedAt,
          expires_at: credential.expiresAt ?? null,
        })
        .execute();
    },
    async deleteCredential(clientId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('client_credentials')
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', clientId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
export type ClientRepository = ReturnType<typeof createClientRepository>;
