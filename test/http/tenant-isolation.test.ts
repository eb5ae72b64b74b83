import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { bootstrapTenant } from '../../src/bootstrap/service.js';
import { generateSigningKey } from '../../src/keys/generate.js';
import { DEFAULT_SERVER_SETTINGS, type Config } from '../../src/config/schema.js';
import { createDeps, type Deps } from '../../src/server/deps.js';
import { createStorage, dropSchema, type Storage } from '../../src/storage/db.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { testBackends } from '../helpers/backends.js';
import { createFakeClock } from '../helpers/fake-clock.js';
import { api } from '../helpers/http.js';

// Every table but `tenants` (keyed by its own id) holds rows of many tenants.
const TENANT_TABLES = [
  'connections',
  'resource_servers',
  'clients',
  'client_credentials',
  'client_grants',
  'signing_keys',
  'users',
  'identities',
  'roles',
  'role_permissions',
  'user_roles',
  'user_permissions',
  'refresh_tokens',
  'consents',
  'login_failures',
  'password_history',
  'one_time_values',
  'logs',
  'log_streams',
  'session_clients',
  'sessions',
  'passkeys',
  'mfa_enrolments',
];

// The same bootstrap client id in both tenants: ids are only unique within a tenant.
const BOOT_ID = 'bootstrap-client';

interface TenantApp {
  readonly app: FastifyInstance;
  readonly deps: Deps;
  readonly issuer: string;
  readonly secret: string;
  readonly token: string;
}

async function tenantApp(
  storage: Storage,
  tenantId: string,
  issuer: string,
  run: string,
): Promise<TenantApp> {
  const secret = `secret-of-${tenantId}-0123456789abcdef`;
  const config: Config = Object.freeze({
    port: 0,
    host: '127.0.0.1',
    issuer,
    databaseUrl: 'unused',
    redisUrl: process.env['LATCHKEY_TEST_REDIS_URL'],
    secret: 'test-secret-test-secret-test-secret-0000',
    bootstrapClientId: BOOT_ID,
    bootstrapClientSecret: secret,
    logLevel: 'silent',
    trustProxy: false,
    server: DEFAULT_SERVER_SETTINGS,
  });
  const clock = createFakeClock(Date.now());
  const deps = createDeps(config, storage, {
    tenantId,
    clock,
    // Small enough to exhaust in a test; each tenant counts its own callers' failures.
    failedAuthLimit: { limit: 3, windowSeconds: 600 },
    // Deployments name their tenant in every Redis key (latchkey:{tenant}:); a run of its own here, since
    // counts outlive the app.
    redisNamespace: `latchkey-test:${run}:${tenantId}:`,
    // Real keys: the test key pool would hand both tenants the same ones.
    generateKey: (state) => generateSigningKey({ tenantId, issuer, state, now: new Date(clock.now()) }),
  });
  await bootstrapTenant(
    { tenantId, issuer, bootstrapClientId: BOOT_ID, bootstrapClientSecret: secret },
    deps,
  );
  const app = await buildApp(deps);
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: {
      grant_type: 'client_credentials',
      client_id: BOOT_ID,
      client_secret: secret,
      audience: `${issuer}api/v2/`,
    },
  });
  if (res.statusCode !== 200) throw new Error(`token for ${tenantId}: ${res.body}`);
  return { app, deps, issuer, secret, token: res.json<{ access_token: string }>().access_token };
}

describe.each(testBackends())('two tenants sharing one $name database', (backend) => {
  const statements: string[] = [];
  let storage: Storage;
  let schema: string | undefined;
  let a: TenantApp;
  let b: TenantApp;

  beforeAll(async () => {
    schema = backend.name === 'postgres' ? `i_${randomBytes(6).toString('hex')}` : undefined;
    storage = await createStorage(backend.url, {
      ...(schema === undefined ? {} : { schema }),
      onQuery: (text) => statements.push(text),
    });
    await migrateToLatest(storage);
    statements.length = 0;
    const run = randomBytes(6).toString('hex');
    a = await tenantApp(storage, 'default', 'https://a.latchkey.test/', run);
    b = await tenantApp(storage, 'acme', 'https://b.latchkey.test/', run);
  });
  afterAll(async () => {
    for (const t of [a, b]) {
      await t.app.close();
      await t.deps.close();
    }
    await storage.close();
    if (schema !== undefined) await dropSchema(backend.url, schema);
  });

  const call = (t: TenantApp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
    api(t.app, { method, url, token: t.token, ...(body !== undefined ? { body } : {}) });

  it('keeps the same client id apart: each tenant’s secret works only in its own tenant', async () => {
    const crossed = await a.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'client_credentials',
        client_id: BOOT_ID,
        client_secret: b.secret,
        audience: `${a.issuer}api/v2/`,
      },
    });
    expect(crossed.statusCode).toBe(401);
    expect(crossed.json()).toMatchObject({ error: 'invalid_client' });
    // A token of one tenant is not accepted by the other (other issuer, other keys).
    expect((await call(b, 'GET', '/api/v2/clients')).statusCode).toBe(200);
    expect((await api(b.app, { method: 'GET', url: '/api/v2/clients', token: a.token })).statusCode).toBe(
      401,
    );
    const kids = async (t: TenantApp) =>
      (await call(t, 'GET', '/api/v2/keys/signing')).json<{ kid: string }[]>().map((k) => k.kid);
    const [kidsA, kidsB] = [await kids(a), await kids(b)];
    expect(kidsA).toHaveLength(2);
    expect(kidsB).toHaveLength(2);
    expect(kidsA.filter((k) => kidsB.includes(k))).toEqual([]);
  });

  it('lets both tenants hold records with the same ids and names, and shows each only its own', async () => {
    for (const t of [a, b]) {
      const rs = await call(t, 'POST', '/api/v2/resource-servers', {
        name: `API of ${t.issuer}`,
        identifier: 'https://shared.example.com/',
        scopes: [{ value: 'read:x' }],
      });
      expect(rs.statusCode).toBe(201);
      expect(
        (await call(t, 'POST', '/api/v2/roles', { name: 'admin', description: t.issuer })).statusCode,
      ).toBe(200);
      const user = await call(t, 'POST', '/api/v2/users', {
        connection: 'Username-Password-Authentication',
        user_id: 'same-id',
        email: 'same@example.com',
        password: `Pass-word-123-${t.issuer}`,
        user_metadata: { tenant: t.issuer },
      });
      expect(user.statusCode).toBe(201);
    }
    for (const t of [a, b]) {
      const users = (await call(t, 'GET', '/api/v2/users')).json<{ user_metadata: unknown }[]>();
      expect(users.map((u) => u.user_metadata)).toEqual([{ tenant: t.issuer }]);
      const roles = (await call(t, 'GET', '/api/v2/roles')).json<{ description: string }[]>();
      expect(roles.map((r) => r.description)).toEqual([t.issuer]);
      const apis = (await call(t, 'GET', '/api/v2/resource-servers')).json<{ name: string }[]>();
      expect(apis.map((r) => r.name)).toContain(`API of ${t.issuer}`);
      expect(apis.filter((r) => r.name.startsWith('API of'))).toHaveLength(1);
      const byEmail = (await call(t, 'GET', '/api/v2/users-by-email?email=same%40example.com')).json<
        { user_metadata: unknown }[]
      >();
      expect(byEmail.map((u) => u.user_metadata)).toEqual([{ tenant: t.issuer }]);
    }
  });

  it('changes and deletes in one tenant leave the other untouched', async () => {
    const roleA = (await call(a, 'GET', '/api/v2/roles')).json<{ id: string }[]>()[0]!.id;
    const roleB = (await call(b, 'GET', '/api/v2/roles')).json<{ id: string }[]>()[0]!.id;
    const user = `/api/v2/users/${encodeURIComponent('auth0|same-id')}`;
    expect((await call(a, 'POST', `${user}/roles`, { roles: [roleA] })).statusCode).toBe(204);
    // The other tenant's role id is unknown here.
    expect((await call(a, 'POST', `${user}/roles`, { roles: [roleB] })).statusCode).toBe(404);
    expect((await call(a, 'PATCH', user, { user_metadata: { changed: true } })).statusCode).toBe(200);
    const permission = {
      resource_server_identifier: 'https://shared.example.com/',
      permission_name: 'read:x',
    };
    expect(
      (await call(a, 'POST', `/api/v2/roles/${roleA}/permissions`, { permissions: [permission] })).statusCode,
    ).toBe(201);
    expect((await call(a, 'POST', `${user}/permissions`, { permissions: [permission] })).statusCode).toBe(
      201,
    );
    expect((await call(a, 'GET', `/api/v2/roles/${roleA}/permissions`)).json()).toHaveLength(1);
    expect((await call(a, 'GET', `${user}/permissions`)).json()).not.toEqual([]);
    expect((await call(b, 'GET', `/api/v2/roles/${roleB}/permissions`)).json()).toEqual([]);
    expect((await call(b, 'GET', `${user}/permissions`)).json()).toEqual([]);
    expect((await call(a, 'GET', `/api/v2/roles/${roleA}/users`)).json()).toHaveLength(1);
    expect((await call(b, 'GET', `/api/v2/roles/${roleB}/users`)).json()).toEqual([]);
    expect((await call(b, 'GET', `${user}/roles`)).json()).toEqual([]);
    expect((await call(b, 'GET', user)).json()).toMatchObject({ user_metadata: { tenant: b.issuer } });
    expect((await call(a, 'GET', `/api/v2/roles/${roleB}`)).statusCode).toBe(404);

    // Refresh-token endpoints, the revocation a block makes, and a user's own token finding its user.
    expect((await call(a, 'GET', `${user}/refresh-tokens`)).json()).toEqual({ tokens: [] });
    expect((await call(a, 'DELETE', `${user}/refresh-tokens`)).statusCode).toBe(204);
    expect((await call(a, 'GET', '/api/v2/refresh-tokens/rt_missing')).statusCode).toBe(404);
    expect((await call(a, 'DELETE', '/api/v2/refresh-tokens/rt_missing')).statusCode).toBe(204);
    // SSO sessions: one of tenant B's users is neither listed, read nor ended through tenant A.
    const at = Math.floor(b.deps.clock.now() / 1000);
    await b.deps.store.sessions.insert(
      {
        id: 'ses_same-id',
        userId: 'auth0|same-id',
        createdAt: at,
        authenticatedAt: at,
        lastInteractionAt: at,
        expiresAt: at + 3600,
        idleExpiresAt: at + 3600,
        revokedAt: undefined,
        ip: undefined,
        userAgent: undefined,
        amr: ['pwd'],
        mfaAt: undefined,
      },
      'hash-of-tenant-b-cookie',
    );
    expect((await call(a, 'GET', `${user}/sessions`)).json()).toEqual({ sessions: [] });
    expect((await call(a, 'GET', '/api/v2/sessions/ses_same-id')).statusCode).toBe(404);
    expect((await call(a, 'DELETE', `${user}/sessions`)).statusCode).toBe(202);
    expect((await call(a, 'DELETE', '/api/v2/sessions/ses_same-id')).statusCode).toBe(202);
    expect((await call(b, 'GET', '/api/v2/sessions/ses_same-id')).json()).toMatchObject({
      id: 'ses_same-id',
      user_id: 'auth0|same-id',
    });
    // Passkeys: a credential id is unique per tenant only; each tenant lists and deletes its own user's.
    const passkey = (id: string) => ({
      id,
      userId: 'auth0|same-id',
      credentialId: 'credential-in-both',
      publicKey: 'AA',
      counter: 0,
      transports: [],
      deviceType: 'singleDevice' as const,
      backedUp: false,
      aaguid: '00000000-0000-0000-0000-000000000000',
      userHandle: 'aGFuZGxl',
      name: undefined,
      userAgent: undefined,
      createdAt: '2026-01-01T00:00:00.000Z',
      lastUsedAt: undefined,
    });
    await b.deps.store.passkeys.insert(passkey('passkey|dev_b'));
    await a.deps.store.passkeys.insert(passkey('passkey|dev_a'));
    const methods = await call(a, 'GET', `${user}/authentication-methods`);
    expect(methods.json<{ id: string }[]>().map((m) => m.id)).toEqual(['passkey|dev_a']);
    expect((await call(a, 'DELETE', `${user}/authentication-methods/passkey%7Cdev_b`)).statusCode).toBe(404);
    expect(await b.deps.store.passkeys.findByCredentialId('credential-in-both')).toMatchObject({
      id: 'passkey|dev_b',
    });
    expect((await call(a, 'PATCH', user, { blocked: true })).statusCode).toBe(200);
    expect((await call(a, 'PATCH', user, { blocked: false })).statusCode).toBe(200);
    const now = Math.floor(Date.now() / 1000) + 5;
    const own = await a.deps.signer.sign(
      {
        iss: a.issuer,
        sub: 'auth0|same-id',
        aud: `${a.issuer}api/v2/`,
        iat: now,
        exp: now + 60,
        scope: 'read:current_user',
      },
      { alg: 'RS256', typ: 'JWT' },
    );
    expect((await api(a.app, { method: 'GET', url: user, token: own })).statusCode).toBe(200);

    expect((await call(a, 'DELETE', user)).statusCode).toBe(204);
    expect((await call(a, 'GET', user)).statusCode).toBe(404);
    expect((await call(b, 'GET', user)).statusCode).toBe(200);
    expect((await call(b, 'GET', `/api/v2/roles/${roleB}`)).statusCode).toBe(200);
  });

  it('signs users in only with their own tenant’s identity and password', async () => {
    for (const t of [a, b]) {
      const app = await call(t, 'POST', '/api/v2/clients', {
        name: 'Login app',
        app_type: 'regular_web',
        grant_types: ['password'],
        token_endpoint_auth_method: 'client_secret_post',
      });
      const { client_id, client_secret } = app.json<{ client_id: string; client_secret: string }>();
      const conn = (await call(t, 'GET', '/api/v2/connections?name=Username-Password-Authentication')).json<
        { id: string }[]
      >()[0]!;
      expect(
        (await call(t, 'PATCH', `/api/v2/connections/${conn.id}`, { enabled_clients: [client_id] }))
          .statusCode,
      ).toBe(200);
      const login = (password: string) =>
        t.app.inject({
          method: 'POST',
          url: '/oauth/token',
          payload: {
            grant_type: 'password',
            client_id,
            client_secret,
            username: 'same@example.com',
            password,
          },
        });
      const own = `Pass-word-123-${t.issuer}`;
      const other = `Pass-word-123-${(t === a ? b : a).issuer}`;
      if (t === a) {
        // Tenant A's user was deleted above; B's user with the same email cannot sign in here.
        expect((await login(other)).statusCode).toBe(403);
        expect((await login(own)).statusCode).toBe(403);
      } else {
        expect((await login(other)).statusCode).toBe(403);
        expect((await login(own)).statusCode).toBe(200);
      }
    }
  });

  it('keeps each tenant’s password history to itself', async () => {
    for (const t of [a, b]) {
      const conn = (await call(t, 'GET', '/api/v2/connections?name=Username-Password-Authentication')).json<
        { id: string }[]
      >()[0]!;
      const patched = await call(t, 'PATCH', `/api/v2/connections/${conn.id}`, {
        options: { passwordPolicy: 'low', password_history: { enable: true, size: 3 } },
      });
      expect(patched.statusCode).toBe(200);
      const created = await call(t, 'POST', '/api/v2/users', {
        connection: 'Username-Password-Authentication',
        user_id: 'history-id',
        email: 'history@example.com',
        password: 'first-passphrase',
      });
      expect(created.statusCode).toBe(201);
    }
    const user = `/api/v2/users/${encodeURIComponent('auth0|history-id')}`;
    expect((await call(a, 'PATCH', user, { password: 'second-passphrase' })).statusCode).toBe(200);
    expect((await call(a, 'PATCH', user, { password: 'first-passphrase' })).statusCode).toBe(400);
    // Tenant B's user with the same id has a history of its own.
    expect((await call(b, 'PATCH', user, { password: 'second-passphrase' })).statusCode).toBe(200);
    expect((await call(b, 'PATCH', user, { password: 'third-passphrase' })).statusCode).toBe(200);
    expect((await call(a, 'PATCH', user, { password: 'third-passphrase' })).statusCode).toBe(200);
  });

  it('counts failed authentications per tenant: one tenant locking an address out leaves the other open', async () => {
    const address = '198.51.100.7';
    const wrong = (t: TenantApp) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: address,
        payload: {
          grant_type: 'client_credentials',
          client_id: BOOT_ID,
          client_secret: 'wrong',
          audience: 'x',
        },
      });
    for (let i = 0; i < 3; i += 1) expect((await wrong(a)).statusCode).toBe(401);
    expect((await wrong(a)).statusCode).toBe(429);
    expect((await wrong(b)).statusCode).toBe(401);
  });

  it('names the tenant in every Redis key and channel by default', async () => {
    const deps = createDeps({ ...a.deps.config, redisUrl: undefined }, storage, { tenantId: 'acme' });
    expect(deps.redisNamespace).toBe('latchkey:acme:');
    await deps.close();
  });

  it('scopes every statement it ran to a tenant', () => {
    const tables = new RegExp(`"(${TENANT_TABLES.join('|')})"`);
    const unscoped = statements.filter((s) => tables.test(s) && !s.includes('"tenant_id"'));
    expect(statements.length).toBeGreaterThan(100);
    expect(unscoped).toEqual([]);
  });
});
