import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/lib/secret-box.js';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { migrateTo, migrateToLatest } from '../../src/storage/migrate.js';
import { createStore } from '../../src/storage/repositories/index.js';
import { testBackends } from '../helpers/backends.js';

const T = '2024-01-01T00:00:00.000Z';
const box = createSecretBox('m'.repeat(32));

/** Rows as the 0002 schema held them: one of every kind, linked the way the application links them. */
async function writeV2Rows(db: Kysely<unknown>): Promise<void> {
  const rows: [string, Record<string, unknown>][] = [
    ['tenants', { id: 'default', settings: '{}', bootstrap_client_id: null, created_at: T }],
    [
      'connections',
      {
        tenant_id: 'default',
        id: 'con_1',
        name: 'Username-Password-Authentication',
        strategy: 'auth0',
        options: '{}',
        enabled_clients: '["app1"]',
        created_at: T,
        updated_at: T,
      },
    ],
    [
      'resource_servers',
      {
        tenant_id: 'default',
        id: 'rs_1',
        identifier: 'https://api.example.com/',
        name: 'API',
        is_system: 0,
        scopes: '[{"value":"read:x"}]',
        signing_alg: 'RS256',
        signing_secret: null,
        allow_offline_access: 1,
        skip_consent: 1,
        token_lifetime: 86400,
        token_lifetime_for_web: 7200,
        enforce_policies: 1,
        token_dialect: 'access_token',
        user_policy: 'allow_all',
        client_policy: 'require_client_grant',
        extra: '{}',
        created_at: T,
        updated_at: T,
      },
    ],
    [
      'clients',
      {
        tenant_id: 'default',
        client_id: 'app1',
        client_secret: box.seal('secret-1'),
        name: 'App one',
        app_type: 'regular_web',
        is_first_party: 1,
        is_system: 0,
        token_endpoint_auth_method: 'client_secret_post',
        private_key_jwt_credentials: '[]',
        grant_types: '["password","refresh_token"]',
        settings: '{}',
        created_at: T,
        updated_at: T,
      },
    ],
    [
      'client_credentials',
      {
        tenant_id: 'default',
        id: 'cred_1',
        client_id: 'app1',
        name: 'key',
        credential_type: 'public_key',
        pem: 'PEM',
        alg: 'RS256',
        kid: 'k1',
        thumbprint: 'tp',
        created_at: T,
        updated_at: T,
        expires_at: null,
      },
    ],
    [
      'client_grants',
      {
        tenant_id: 'default',
        id: 'cgr_1',
        client_id: 'app1',
        audience: 'https://api.example.com/',
        scope: '["read:x"]',
        subject_type: 'client',
        default_for: null,
        allow_all_scopes: 0,
        organization_usage: null,
        allow_any_organization: null,
        authorization_details_types: '[]',
        is_system: 0,
        created_at: T,
      },
    ],
    [
      'users',
      {
        tenant_id: 'default',
        user_id: 'auth0|abc123',
        connection: 'Username-Password-Authentication',
        email: 'ana@example.com',
        email_norm: 'ana@example.com',
        email_verified: 1,
        username: 'ana',
        username_norm: 'ana',
        phone_number: null,
        phone_verified: 0,
        name: 'Ana',
        name_norm: 'ana',
        given_name: null,
        family_name: null,
        nickname: 'ana',
        picture: null,
        user_metadata: '{"theme":"dark"}',
        app_metadata: '{}',
        password_hash: '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA',
        last_password_reset: null,
        blocked: 0,
        logins_count: 3,
        last_login: T,
        last_ip: '192.0.2.1',
        created_at: T,
        updated_at: T,
      },
    ],
    ['roles', { tenant_id: 'default', id: 'rol_1', name: 'reader', description: 'Reads', created_at: T }],
    [
      'role_permissions',
      {
        tenant_id: 'default',
        role_id: 'rol_1',
        resource_server_identifier: 'https://api.example.com/',
        permission_name: 'read:x',
      },
    ],
    ['user_roles', { tenant_id: 'default', user_id: 'auth0|abc123', role_id: 'rol_1', created_at: T }],
    [
      'user_permissions',
      {
        tenant_id: 'default',
        user_id: 'auth0|abc123',
        resource_server_identifier: 'https://api.example.com/',
        permission_name: 'write:x',
      },
    ],
    [
      'refresh_tokens',
      {
        tenant_id: 'default',
        id: 'rt_1',
        token_hash: 'hash-1',
        family_id: 'rtf_1',
        user_id: 'auth0|abc123',
        client_id: 'app1',
        audience: 'https://api.example.com/',
        scope: '["read:x","offline_access"]',
        rotating: 1,
        created_at: 1_700_000_000,
        expires_at: null,
        idle_expires_at: null,
        last_used_at: null,
        rotated_at: null,
        revoked_at: null,
      },
    ],
    [
      'consents',
      {
        tenant_id: 'default',
        id: 'cgr_u1',
        user_id: 'auth0|abc123',
        client_id: 'app1',
        audience: 'https://api.example.com/',
        scope: '["read:x"]',
        created_at: T,
        updated_at: T,
      },
    ],
    [
      'login_failures',
      {
        tenant_id: 'default',
        user_id: 'auth0|abc123',
        ip: '192.0.2.9',
        failures: 2,
        window_start: 1,
        blocked_until: null,
      },
    ],
    ['used_jtis', { tenant_id: 'default', client_id: 'app1', jti: 'jti-1', expires_at: 4_000_000_000 }],
  ];
  for (const [table, values] of rows) {
    await sql`insert into ${sql.table(table)} (${sql.join(Object.keys(values).map((k) => sql.ref(k)))}) values (${sql.join(Object.values(values))})`.execute(
      db,
    );
  }
  for (const kid of ['key-a', 'key-b']) {
    await sql`insert into signing_keys (tenant_id, kid, alg, state, public_jwk, private_key, cert, fingerprint, thumbprint, created_at)
      values ('default', ${kid}, 'RS256', ${kid === 'key-a' ? 'current' : 'next'}, '{}', ${box.seal('pem')}, 'cert', 'fp', 'tp', ${T})`.execute(
      db,
    );
  }
}

describe.each(testBackends())('migration 0003 (tenant keys, identities) on $name', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function open(): Promise<Storage> {
    const schema = backend.name === 'postgres' ? `m_${randomBytes(6).toString('hex')}` : undefined;
    const storage = await createStorage(backend.url, schema === undefined ? {} : { schema });
    cleanups.push(async () => {
      await storage.close();
      if (schema !== undefined) await dropSchema(backend.url, schema);
    });
    return storage;
  }

  it('carries every existing row into the new schema, each user with its own identity', async () => {
    const storage = await open();
    await migrateTo(storage, '0002-users');
    await writeV2Rows(storage.db as unknown as Kysely<unknown>);
    expect(await migrateToLatest(storage)).toContain('0003-tenant-keys-identities');

    const store = createStore(storage, 'default', box);
    const match = await store.users.findByLogin('Username-Password-Authentication', 'ANA@example.com');
    expect(match?.identity).toEqual({
      provider: 'auth0',
      userId: 'abc123',
      connection: 'Username-Password-Authentication',
      isSocial: false,
      email: 'ana@example.com',
      username: 'ana',
      passwordHash: '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA',
      profileData: {},
      createdAt: T,
      updatedAt: T,
    });
    expect(match?.user).toMatchObject({
      userId: 'auth0|abc123',
      email: 'ana@example.com',
      userMetadata: { theme: 'dark' },
      loginsCount: 3,
      identities: [match?.identity],
    });
    expect((await store.users.findByLogin('Username-Password-Authentication', 'ana'))?.user.userId).toBe(
      'auth0|abc123',
    );
    expect(await store.roles.effectivePermissions('auth0|abc123', 'https://api.example.com/')).toEqual(
      expect.arrayContaining(['read:x', 'write:x']),
    );
    expect(await store.refreshTokens.findByHash('hash-1')).toMatchObject({ id: 'rt_1', familyId: 'rtf_1' });
    expect((await store.clients.findById('app1'))?.clientSecret).toBe('secret-1');
    expect((await store.clients.listCredentials('app1')).map((c) => c.id)).toEqual(['cred_1']);
    expect(
      (await store.clientGrants.listForClientAndAudience('app1', 'https://api.example.com/')).length,
    ).toBe(1);
    expect((await store.connections.findByName('Username-Password-Authentication'))?.enabledClients).toEqual([
      'app1',
    ]);
    expect(await store.loginFailures.blocksFor('auth0|abc123', 0)).toEqual([]);
    // The recorded assertion jti is still spent.
    expect(await store.oneTimeValues.put('jti:app1:jti-1', '1', 4_000_000_000, 1_700_000_000)).toBe(false);
    // Keys keep their order, and a new key comes after them.
    expect((await store.signingKeys.list()).map((k) => k.kid)).toEqual(['key-a', 'key-b']);
    const [a] = await store.signingKeys.list();
    await store.signingKeys.insert({ ...a!, kid: 'key-c', state: 'next' });
    expect((await store.signingKeys.list()).map((k) => k.kid)).toEqual(['key-a', 'key-b', 'key-c']);
    // Deleting the user still cascades to everything that names it.
    expect(await store.users.delete('auth0|abc123')).toBe(true);
    expect(await store.refreshTokens.findByHash('hash-1')).toBeUndefined();
    expect(await store.roles.userRoles('auth0|abc123')).toEqual([]);
  });

  it('rolls back to the 0002 shape with each user’s connection and password restored', async () => {
    const storage = await open();
    await migrateTo(storage, '0002-users');
    await writeV2Rows(storage.db as unknown as Kysely<unknown>);
    await migrateToLatest(storage);
    await migrateTo(storage, '0002-users');
    const { rows } = await sql<{ connection: string; password_hash: string }>`
      select connection, password_hash from users where user_id = 'auth0|abc123'`.execute(storage.db);
    expect(rows).toEqual([
      {
        connection: 'Username-Password-Authentication',
        password_hash: '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA',
      },
    ]);
    // The old surrogate key generates itself again.
    await sql`insert into signing_keys (tenant_id, kid, alg, state, public_jwk, private_key, cert, fingerprint, thumbprint, created_at)
      values ('default', 'key-z', 'RS256', 'next', '{}', 'x', 'cert', 'fp', 'tp', ${T})`.execute(storage.db);
    const keys = await sql<{ kid: string }>`select kid from signing_keys order by seq`.execute(storage.db);
    expect(keys.rows.map((r) => r.kid)).toEqual(['key-a', 'key-b', 'key-z']);
    expect(await migrateToLatest(storage)).toContain('0003-tenant-keys-identities');
    const store = createStore(storage, 'default', box);
    expect((await store.users.findById('auth0|abc123'))?.identities).toHaveLength(1);
  });
});
