import type { Kysely } from 'kysely';
import type { DialectName } from '../db.js';

// Users, roles and permissions, refresh tokens, consents and brute-force counters (issue #3).
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('email_norm', 'text')
    .addColumn('email_verified', 'integer', (c) => c.notNull())
    .addColumn('username', 'text')
    .addColumn('username_norm', 'text')
    .addColumn('phone_number', 'text')
    .addColumn('phone_verified', 'integer', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('name_norm', 'text')
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .addColumn('nickname', 'text')
    .addColumn('picture', 'text')
    .addColumn('user_metadata', 'text', (c) => c.notNull())
    .addColumn('app_metadata', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('last_password_reset', 'text')
    .addColumn('blocked', 'integer', (c) => c.notNull())
    .addColumn('logins_count', 'integer', (c) => c.notNull())
    .addColumn('last_login', 'text')
    .addColumn('last_ip', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // NULLs are distinct, so users without email/username do not collide.
  await db.schema
    .createIndex('users_connection_email_unique')
    .on('users')
    .columns(['tenant_id', 'connection', 'email_norm'])
    .unique()
    .execute();
  await db.schema
    .createIndex('users_connection_username_unique')
    .on('users')
    .columns(['tenant_id', 'connection', 'username_norm'])
    .unique()
    .execute();
  for (const column of [
    'email_norm',
    'created_at',
    'last_login',
    'logins_count',
    'name_norm',
    'updated_at',
  ]) {
    await db.schema.createIndex(`users_${column}`).on('users').columns(['tenant_id', column]).execute();
  }

  await db.schema
    .createTable('roles')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('roles_name_unique', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('role_permissions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addColumn('resource_server_identifier', 'text', (c) => c.notNull())
    .addColumn('permission_name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('role_permissions_pk', [
      'role_id',
      'resource_server_identifier',
      'permission_name',
    ])
    .execute();

  await db.schema
    .createTable('user_roles')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
    .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role_id'])
    .execute();
  await db.schema.createIndex('user_roles_role').on('user_roles').columns(['role_id']).execute();

  await db.schema
    .createTable('user_permissions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
    .addColumn('resource_server_identifier', 'text', (c) => c.notNull())
    .addColumn('permission_name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_permissions_pk', [
      'user_id',
      'resource_server_identifier',
      'permission_name',
    ])
    .execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('family_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.client_id').onDelete('cascade'))
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('rotating', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('idle_expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('rotated_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('refresh_tokens_family').on('refresh_tokens').columns(['family_id']).execute();
  await db.schema
    .createIndex('refresh_tokens_user_client')
    .on('refresh_tokens')
    .columns(['tenant_id', 'user_id', 'client_id', 'audience'])
    .execute();

  await db.schema
    .createTable('consents')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.client_id').onDelete('cascade'))
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('consents_unique', ['tenant_id', 'user_id', 'client_id', 'audience'])
    .execute();

  await db.schema
    .createTable('login_failures')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('blocked_until', 'bigint')
    .addPrimaryKeyConstraint('login_failures_pk', ['tenant_id', 'user_id', 'ip'])
    .execute();
}

export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  for (const table of [
    'login_failures',
    'consents',
    'refresh_tokens',
    'user_permissions',
    'user_roles',
    'role_permissions',
    'roles',
    'users',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
