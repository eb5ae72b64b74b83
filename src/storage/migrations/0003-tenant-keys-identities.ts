import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../db.js';

/*
 * Issue #8: every key carries tenant_id (primary, unique and foreign keys), users get an identities table
 * (a login resolves an identity to its user; passwords belong to the identity), and assertion jtis move into
 * the general one-time-value table.
 *
 * SQLite cannot change a table's keys in place, so every table is rebuilt the way SQLite documents it:
 * create the new shape under a temporary name, copy, drop the old table, rename. PostgreSQL takes the same
 * path so both engines end with the same schema. The table specs below are frozen with this migration.
 */

type ColumnType = 'text' | 'integer' | 'bigint';
interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly notNull?: boolean;
}
interface ForeignKey {
  readonly columns: readonly string[];
  readonly table: string;
  readonly references: readonly string[];
  readonly cascade?: boolean;
}
interface TableSpec {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly primaryKey: readonly string[];
  readonly unique?: readonly (readonly string[])[];
  readonly foreignKeys?: readonly ForeignKey[];
  readonly indexes?: readonly (readonly string[])[];
  /** Columns of the new table filled from an expression of the old row instead of the same-named column. */
  readonly copy?: (dialect: DialectName) => Readonly<Record<string, string>>;
  /** Where the rows come from when it is not the same-named table. */
  readonly copyFrom?: string;
}

const text = (name: string, notNull = true): Column => ({ name, type: 'text', notNull });
const int = (name: string, notNull = true): Column => ({ name, type: 'integer', notNull });
const big = (name: string, notNull = true): Column => ({ name, type: 'bigint', notNull });
const tenant = text('tenant_id');
const tenantFk: ForeignKey = { columns: ['tenant_id'], table: 'tenants', references: ['id'] };
const stamps = [text('created_at'), text('updated_at')];
/** A row that belongs to a row of another table, within the same tenant, and goes with it. */
const owner = (table: string, column: string, key: string): ForeignKey => ({
  columns: ['tenant_id', column],
  table,
  references: ['tenant_id', key],
  cascade: true,
});
const toUser = owner('users', 'user_id', 'user_id');
const toClient = owner('clients', 'client_id', 'client_id');
const toRole = owner('roles', 'role_id', 'id');

const userCols = [
  tenant,
  text('user_id'),
  text('email', false),
  text('email_norm', false),
  int('email_verified'),
  text('username', false),
  text('username_norm', false),
  text('phone_number', false),
  int('phone_verified'),
  text('name', false),
  text('name_norm', false),
  text('given_name', false),
  text('family_name', false),
  text('nickname', false),
  text('picture', false),
  text('user_metadata'),
  text('app_metadata'),
  text('last_password_reset', false),
  int('blocked'),
  int('logins_count'),
  text('last_login', false),
  text('last_ip', false),
  ...stamps,
];

// The provider is the part of a user id before the first `|` (Auth0: `auth0|abc`), the identity's id the rest.
function splitUserId(dialect: DialectName): { provider: string; id: string } {
  const bar = dialect === 'postgres' ? "strpos(user_id, '|')" : "instr(user_id, '|')";
  return {
    provider: `case when ${bar} = 0 then 'auth0' else substr(user_id, 1, ${bar} - 1) end`,
    id: `case when ${bar} = 0 then user_id else substr(user_id, ${bar} + 1) end`,
  };
}

/** The schema after this migration, parents before children. */
const V3: readonly TableSpec[] = [
  {
    name: 'connections',
    columns: [
      tenant,
      text('id'),
      text('name'),
      text('strategy'),
      text('options'),
      text('enabled_clients'),
      ...stamps,
    ],
    primaryKey: ['tenant_id', 'id'],
    unique: [['tenant_id', 'name']],
    foreignKeys: [tenantFk],
  },
  {
    name: 'resource_servers',
    columns: [
      tenant,
      text('id'),
      text('identifier'),
      text('name'),
      int('is_system'),
      text('scopes'),
      text('signing_alg'),
      text('signing_secret', false),
      int('allow_offline_access'),
      int('skip_consent'),
      int('token_lifetime'),
      int('token_lifetime_for_web'),
      int('enforce_policies'),
      text('token_dialect'),
      text('user_policy'),
      text('client_policy'),
      text('extra'),
      ...stamps,
    ],
    primaryKey: ['tenant_id', 'id'],
    unique: [['tenant_id', 'identifier']],
    foreignKeys: [tenantFk],
  },
  {
    name: 'clients',
    columns: [
      tenant,
      text('client_id'),
      text('client_secret'),
      text('name'),
      text('app_type', false),
      int('is_first_party'),
      int('is_system'),
      text('token_endpoint_auth_method', false),
      text('private_key_jwt_credentials'),
      text('grant_types'),
      text('settings'),
      ...stamps,
    ],
    primaryKey: ['tenant_id', 'client_id'],
    foreignKeys: [tenantFk],
    indexes: [['tenant_id', 'name']],
  },
  {
    name: 'client_credentials',
    columns: [
      tenant,
      text('id'),
      text('client_id'),
      text('name'),
      text('credential_type'),
      text('pem'),
      text('alg'),
      text('kid'),
      text('thumbprint'),
      ...stamps,
      text('expires_at', false),
    ],
    primaryKey: ['tenant_id', 'id'],
    foreignKeys: [toClient],
    indexes: [['tenant_id', 'client_id']],
  },
  {
    name: 'client_grants',
    columns: [
      tenant,
      text('id'),
      // NULL for grants that apply by default_for instead of to one client.
      text('client_id', false),
      text('audience'),
      text('scope'),
      text('subject_type'),
      text('default_for', false),
      int('allow_all_scopes'),
      text('organization_usage', false),
      int('allow_any_organization', false),
      text('authorization_details_types'),
      int('is_system'),
      text('created_at'),
    ],
    primaryKey: ['tenant_id', 'id'],
    // NULLs are distinct in both engines, so each index constrains only its own kind of grant.
    unique: [
      ['tenant_id', 'client_id', 'audience', 'subject_type'],
      ['tenant_id', 'default_for', 'audience', 'subject_type'],
    ],
    foreignKeys: [tenantFk, toClient],
    indexes: [['tenant_id', 'audience']],
  },
  {
    name: 'signing_keys',
    columns: [
      tenant,
      text('kid'),
      text('alg'),
      text('state'),
      text('public_jwk'),
      text('private_key'),
      text('cert'),
      text('fingerprint'),
      text('thumbprint'),
      text('current_since', false),
      text('current_until', false),
      text('revoked_at', false),
      text('created_at'),
      // Creation order, which key listing follows; kept from the old surrogate key.
      big('seq'),
    ],
    primaryKey: ['tenant_id', 'kid'],
    foreignKeys: [tenantFk],
    indexes: [['tenant_id', 'seq']],
  },
  {
    name: 'users',
    columns: userCols,
    primaryKey: ['tenant_id', 'user_id'],
    foreignKeys: [tenantFk],
    indexes: [
      ['tenant_id', 'email_norm'],
      ['tenant_id', 'username_norm'],
      ['tenant_id', 'created_at'],
      ['tenant_id', 'last_login'],
      ['tenant_id', 'logins_count'],
      ['tenant_id', 'name_norm'],
      ['tenant_id', 'updated_at'],
    ],
  },
  {
    name: 'identities',
    columns: [
      tenant,
      text('user_id'),
      text('provider'),
      text('identity_user_id'),
      text('connection'),
      int('is_social'),
      text('email', false),
      text('email_norm', false),
      text('username', false),
      text('username_norm', false),
      text('password_hash', false),
      text('profile_data'),
      ...stamps,
    ],
    primaryKey: ['tenant_id', 'provider', 'identity_user_id'],
    // Emails and usernames are unique per connection; NULLs (no username) do not collide.
    unique: [
      ['tenant_id', 'connection', 'email_norm'],
      ['tenant_id', 'connection', 'username_norm'],
    ],
    foreignKeys: [toUser],
    indexes: [['tenant_id', 'user_id']],
    copyFrom: 'users',
    copy: (dialect) => {
      const split = splitUserId(dialect);
      return {
        provider: split.provider,
        identity_user_id: split.id,
        is_social: '0',
        profile_data: "'{}'",
      };
    },
  },
  {
    name: 'roles',
    columns: [tenant, text('id'), text('name'), text('description'), text('created_at')],
    primaryKey: ['tenant_id', 'id'],
    unique: [['tenant_id', 'name']],
    foreignKeys: [tenantFk],
  },
  {
    name: 'role_permissions',
    columns: [tenant, text('role_id'), text('resource_server_identifier'), text('permission_name')],
    primaryKey: ['tenant_id', 'role_id', 'resource_server_identifier', 'permission_name'],
    foreignKeys: [toRole],
    indexes: [['tenant_id', 'resource_server_identifier']],
  },
  {
    name: 'user_roles',
    columns: [tenant, text('user_id'), text('role_id'), text('created_at')],
    primaryKey: ['tenant_id', 'user_id', 'role_id'],
    foreignKeys: [toUser, toRole],
    indexes: [['tenant_id', 'role_id', 'user_id']],
  },
  {
    name: 'user_permissions',
    columns: [tenant, text('user_id'), text('resource_server_identifier'), text('permission_name')],
    primaryKey: ['tenant_id', 'user_id', 'resource_server_identifier', 'permission_name'],
    foreignKeys: [toUser],
    indexes: [['tenant_id', 'resource_server_identifier']],
  },
  {
    name: 'refresh_tokens',
    columns: [
      tenant,
      text('id'),
      text('token_hash'),
      text('family_id'),
      text('user_id'),
      text('client_id'),
      text('audience'),
      text('scope'),
      int('rotating'),
      big('created_at'),
      big('expires_at', false),
      big('idle_expires_at', false),
      big('last_used_at', false),
      big('rotated_at', false),
      big('revoked_at', false),
    ],
    primaryKey: ['tenant_id', 'id'],
    unique: [['tenant_id', 'token_hash']],
    foreignKeys: [toUser, toClient],
    indexes: [
      ['tenant_id', 'family_id'],
      ['tenant_id', 'user_id', 'client_id', 'audience'],
    ],
  },
  {
    name: 'consents',
    columns: [
      tenant,
      text('id'),
      text('user_id'),
      text('client_id'),
      text('audience'),
      text('scope'),
      ...stamps,
    ],
    primaryKey: ['tenant_id', 'id'],
    unique: [['tenant_id', 'user_id', 'client_id', 'audience']],
    foreignKeys: [toUser, toClient],
  },
  {
    name: 'one_time_values',
    columns: [tenant, text('key'), text('value'), big('expires_at')],
    primaryKey: ['tenant_id', 'key'],
    indexes: [['expires_at']],
    copyFrom: 'used_jtis',
    // The key spelling the one-time store uses for client-assertion jtis (see oauth/client-auth).
    copy: () => ({ key: "'jti:' || client_id || ':' || jti", value: "'1'" }),
  },
];

function v3(name: string): TableSpec {
  const spec = V3.find((t) => t.name === name);
  if (!spec) throw new Error(`no table ${name}`);
  return spec;
}

// Before this migration, foreign keys named the parent's id alone.
const oldOwner = (table: string, column: string, key: string): ForeignKey => ({
  columns: [column],
  table,
  references: [key],
  cascade: true,
});
const oldToUser = oldOwner('users', 'user_id', 'user_id');
const oldToClient = oldOwner('clients', 'client_id', 'client_id');
const oldToRole = oldOwner('roles', 'role_id', 'id');

/** The tables as 0001 and 0002 left them (for `down`), parents before children. */
const V2: readonly TableSpec[] = [
  {
    ...v3('connections'),
    primaryKey: ['id'],
  },
  { ...v3('resource_servers'), primaryKey: ['id'] },
  { ...v3('clients'), primaryKey: ['client_id'] },
  {
    ...v3('client_credentials'),
    primaryKey: ['id'],
    foreignKeys: [oldToClient],
    indexes: [['client_id']],
  },
  {
    ...v3('client_grants'),
    primaryKey: ['id'],
    foreignKeys: [tenantFk, oldToClient],
  },
  {
    ...v3('signing_keys'),
    primaryKey: ['seq'],
    unique: [['kid']],
    indexes: [],
  },
  {
    name: 'users',
    columns: [
      ...userCols.slice(0, 2),
      text('connection'),
      ...userCols.slice(2, 17),
      text('password_hash', false),
      ...userCols.slice(17),
    ],
    primaryKey: ['user_id'],
    unique: [
      ['tenant_id', 'connection', 'email_norm'],
      ['tenant_id', 'connection', 'username_norm'],
    ],
    foreignKeys: [tenantFk],
    indexes: [
      ['tenant_id', 'email_norm'],
      ['tenant_id', 'created_at'],
      ['tenant_id', 'last_login'],
      ['tenant_id', 'logins_count'],
      ['tenant_id', 'name_norm'],
      ['tenant_id', 'updated_at'],
    ],
    // A user's own identity is the one its id names; linked identities do not survive a downgrade.
    copy: () => {
      const own =
        "from identities i where i.tenant_id = users.tenant_id and i.user_id = users.user_id and i.provider || '|' || i.identity_user_id = users.user_id";
      return {
        connection: `(select i.connection ${own})`,
        password_hash: `(select i.password_hash ${own})`,
      };
    },
  },
  { ...v3('roles'), primaryKey: ['id'] },
  {
    ...v3('role_permissions'),
    primaryKey: ['role_id', 'resource_server_identifier', 'permission_name'],
    foreignKeys: [oldToRole],
    indexes: [],
  },
  {
    ...v3('user_roles'),
    primaryKey: ['user_id', 'role_id'],
    foreignKeys: [oldToUser, oldToRole],
    indexes: [['role_id']],
  },
  {
    ...v3('user_permissions'),
    primaryKey: ['user_id', 'resource_server_identifier', 'permission_name'],
    foreignKeys: [oldToUser],
    indexes: [],
  },
  {
    ...v3('refresh_tokens'),
    primaryKey: ['id'],
    unique: [['token_hash']],
    foreignKeys: [oldToUser, oldToClient],
    indexes: [['family_id'], ['tenant_id', 'user_id', 'client_id', 'audience']],
  },
  {
    ...v3('consents'),
    primaryKey: ['id'],
    foreignKeys: [oldToUser, oldToClient],
  },
  {
    name: 'used_jtis',
    columns: [tenant, text('client_id'), text('jti'), big('expires_at')],
    primaryKey: ['tenant_id', 'client_id', 'jti'],
    indexes: [['expires_at']],
    // Recorded jtis are not carried back: keys of other one-time values cannot be told apart reliably.
    copyFrom: 'none',
  },
];

const TEMP = '__rebuild';

/**
 * Constraint names carry the schema version: PostgreSQL names index-backed constraints per schema, and the old
 * and new tables exist side by side during the rebuild.
 */
async function createTable(
  db: Kysely<unknown>,
  spec: TableSpec,
  dialect: DialectName,
  version: 'v2' | 'v3',
): Promise<void> {
  const name = `${spec.name}${TEMP}`;
  let builder = db.schema.createTable(name);
  for (const column of spec.columns) {
    // The old surrogate key generates itself: bigserial, or SQLite's integer primary key (a rowid alias).
    const surrogate =
      spec.primaryKey.length === 1 && spec.primaryKey[0] === column.name && column.name === 'seq';
    const type = surrogate ? (dialect === 'postgres' ? 'bigserial' : 'integer') : column.type;
    builder = builder.addColumn(column.name, type, (c) => (column.notNull === true ? c.notNull() : c));
  }
  builder = builder.addPrimaryKeyConstraint(`${spec.name}_pk_${version}`, [...spec.primaryKey] as never[]);
  for (const [i, cols] of (spec.unique ?? []).entries()) {
    builder = builder.addUniqueConstraint(`${spec.name}_uq${i + 1}_${version}`, [...cols] as never[]);
  }
  for (const [i, fk] of (spec.foreignKeys ?? []).entries()) {
    // A child points at its parent's new table; renaming the parent later keeps the reference on both engines.
    const target = fk.table === 'tenants' ? 'tenants' : `${fk.table}${TEMP}`;
    builder = builder.addForeignKeyConstraint(
      `${spec.name}_fk${i + 1}_${version}`,
      [...fk.columns] as never[],
      target,
      [...fk.references],
      (c) => (fk.cascade === true ? c.onDelete('cascade') : c),
    );
  }
  await builder.execute();
}

async function copyRows(db: Kysely<unknown>, spec: TableSpec, dialect: DialectName): Promise<void> {
  const from = spec.copyFrom ?? spec.name;
  if (from === 'none') return;
  const exprs = spec.copy?.(dialect) ?? {};
  const names = spec.columns.map((c) => c.name);
  const select = names.map((n) => exprs[n] ?? `${from}.${n}`);
  await sql
    .raw(`insert into ${spec.name}${TEMP} (${names.join(', ')}) select ${select.join(', ')} from ${from}`)
    .execute(db);
}

/** Replaces the tables of `from` by those of `to` (same data, new keys). */
async function rebuild(
  db: Kysely<unknown>,
  dialect: DialectName,
  from: readonly TableSpec[],
  to: readonly TableSpec[],
  version: 'v2' | 'v3',
): Promise<void> {
  for (const spec of to) await createTable(db, spec, dialect, version);
  for (const spec of to) await copyRows(db, spec, dialect);
  // Old indexes go with their tables; children first so PostgreSQL's foreign keys never dangle.
  for (const spec of [...from].reverse()) await db.schema.dropTable(spec.name).execute();
  for (const spec of to) await db.schema.alterTable(`${spec.name}${TEMP}`).renameTo(spec.name).execute();
  // A PostgreSQL sequence restored by `down` must continue after the copied numbers.
  if (dialect === 'postgres' && to.some((t) => t.primaryKey.join() === 'seq')) {
    await sql`select setval(pg_get_serial_sequence('signing_keys', 'seq'), coalesce(max(seq), 0) + 1, false) from signing_keys`.execute(
      db,
    );
  }
  for (const spec of to) {
    for (const cols of spec.indexes ?? []) {
      await db.schema
        .createIndex(`${spec.name}_${cols.join('_')}`)
        .on(spec.name)
        .columns([...cols])
        .execute();
    }
  }
}

/** SQLite: foreign keys off around the rebuild (they cannot change inside a transaction), all in one transaction. */
async function inTransaction(
  db: Kysely<unknown>,
  dialect: DialectName,
  work: () => Promise<void>,
): Promise<void> {
  // PostgreSQL migrations already run in a transaction (Kysely's migrator); SQLite's do not.
  if (dialect === 'postgres') return work();
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await sql`begin`.execute(db);
    try {
      await work();
      const broken = await sql`pragma foreign_key_check`.execute(db);
      if (broken.rows.length > 0)
        throw new Error(`foreign key check failed: ${JSON.stringify(broken.rows[0])}`);
      await sql`commit`.execute(db);
    } catch (error) {
      await sql`rollback`.execute(db);
      throw error;
    }
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await inTransaction(db, dialect, () => rebuild(db, dialect, V2, V3, 'v3'));
}

export async function down(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  // identities is still there while the old users table is filled from it; it is dropped with the rest.
  await inTransaction(db, dialect, () => rebuild(db, dialect, V3, V2, 'v2'));
}
