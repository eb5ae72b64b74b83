import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';

// A migration's db is untyped on purpose: migrations outlive table types.
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const isPostgres = dialect === 'postgres';
  const serial = isPostgres ? 'bigserial' : 'integer';

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('bootstrap_client_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('connections')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('strategy', 'text', (c) => c.notNull())
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('enabled_clients', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('connections_name_unique', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('resource_servers')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('identifier', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_system', 'integer', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('signing_alg', 'text', (c) => c.notNull())
    .addColumn('signing_secret', 'text')
    .addColumn('allow_offline_access', 'integer', (c) => c.notNull())
    .addColumn('skip_consent', 'integer', (c) => c.notNull())
    .addColumn('token_lifetime', 'integer', (c) => c.notNull())
    .addColumn('token_lifetime_for_web', 'integer', (c) => c.notNull())
    .addColumn('enforce_policies', 'integer', (c) => c.notNull())
    .addColumn('token_dialect', 'text', (c) => c.notNull())
    .addColumn('user_policy', 'text', (c) => c.notNull())
    .addColumn('client_policy', 'text', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('resource_servers_identifier_unique', ['tenant_id', 'identifier'])
    .execute();

  await db.schema
    .createTable('clients')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('client_secret', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('app_type', 'text')
    .addColumn('is_first_party', 'integer', (c) => c.notNull())
    .addColumn('is_system', 'integer', (c) => c.notNull())
    .addColumn('token_endpoint_auth_method', 'text')
    .addColumn('private_key_jwt_credentials', 'text', (c) => c.notNull())
    .addColumn('grant_types', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('clients_tenant_name').on('clients').columns(['tenant_id', 'name']).execute();

  await db.schema
    .createTable('client_credentials')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.client_id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('credential_type', 'text', (c) => c.notNull())
    .addColumn('pem', 'text', (c) => c.notNull())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('kid', 'text', (c) => c.notNull())
    .addColumn('thumbprint', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .execute();
  await db.schema
    .createIndex('client_credentials_client')
    .on('client_credentials')
    .columns(['client_id'])
    .execute();

  await db.schema
    .createTable('client_grants')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.references('clients.client_id').onDelete('cascade'))
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('default_for', 'text')
    .addColumn('allow_all_scopes', 'integer', (c) => c.notNull())
    .addColumn('organization_usage', 'text')
    .addColumn('allow_any_organization', 'integer')
    .addColumn('authorization_details_types', 'text', (c) => c.notNull())
    .addColumn('is_system', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  // NULLs are distinct in both engines, so each index constrains only its own kind of grant.
  await db.schema
    .createIndex('client_grants_per_client_unique')
    .on('client_grants')
    .columns(['tenant_id', 'client_id', 'audience', 'subject_type'])
    .unique()
    .execute();
  await db.schema
    .createIndex('client_grants_default_for_unique')
    .on('client_grants')
    .columns(['tenant_id', 'default_for', 'audience', 'subject_type'])
    .unique()
    .execute();
  await db.schema
    .createIndex('client_grants_audience')
    .on('client_grants')
    .columns(['tenant_id', 'audience'])
    .execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('seq', serial, (c) => (isPostgres ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('kid', 'text', (c) => c.notNull().unique())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_key', 'text', (c) => c.notNull())
    .addColumn('cert', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('thumbprint', 'text', (c) => c.notNull())
    .addColumn('current_since', 'text')
    .addColumn('current_until', 'text')
    .addColumn('revoked_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('used_jtis')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('jti', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('used_jtis_pk', ['tenant_id', 'client_id', 'jti'])
    .execute();
  await db.schema.createIndex('used_jtis_expiry').on('used_jtis').columns(['expires_at']).execute();
}

export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  for (const table of [
    'used_jtis',
    'signing_keys',
    'client_grants',
    'client_credentials',
    'clients',
    'resource_servers',
    'connections',
    'tenants',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
