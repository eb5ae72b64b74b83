import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { createFactories } from '../../helpers/factories.js';
import { form } from '../../helpers/http.js';
import { collect, startSdkServer, type SdkServer } from '../../helpers/sdk.js';

const API = 'https://sdk-users.example.com/';
const DB = 'Username-Password-Authentication';
const PASSWORD = 'Pass-word-123';

// auth0 v7's ManagementClient against a listening server: every method of the user, users-by-email, user
// role and permission, grant and user-block endpoints, and the exact requests each one sends.
describe.each(testBackends())('auth0 v7 ManagementClient: users, grants, blocks on $name', (backend) => {
  let s: SdkServer;
  beforeAll(async () => {
    s = await startSdkServer(backend);
    await s.management.resourceServers.create({
      identifier: API,
      scopes: [{ value: 'read:x', description: 'Read x' }, { value: 'write:x' }],
    });
  });
  afterAll(async () => {
    await s.close();
  });
  const lastSent = () => s.sent.at(-1);

  it('users: create, get, update, list and search every way, users-by-email, delete', async () => {
    const { management: m } = s;
    const ada = await m.users.create({
      connection: DB,
      email: 'Ada@Example.com',
      password: PASSWORD,
      given_name: 'Ada',
      user_metadata: { theme: 'dark' },
      app_metadata: { plan: 'pro' },
    });
    expect(ada).toEqual({
      user_id: expect.stringMatching(/^auth0\|/),
      email: 'ada@example.com',
      email_verified: false,
      name: 'ada@example.com',
      nickname: 'ada',
      given_name: 'Ada',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      identities: [
        { connection: DB, user_id: ada.user_id?.slice('auth0|'.length), provider: 'auth0', isSocial: false },
      ],
      user_metadata: { theme: 'dark' },
      app_metadata: { plan: 'pro' },
      logins_count: 0,
    });
    const id = ada.user_id ?? '';
    const bob = await m.users.create({ connection: DB, email: 'bob@example.com', password: PASSWORD });
    expect(await m.users.get(id)).toEqual(ada);
    expect(await m.users.get(id, { fields: 'email,user_id', include_fields: true })).toEqual({
      email: 'ada@example.com',
      user_id: id,
    });
    expect(lastSent()).toBe(
      `GET /api/v2/users/${encodeURIComponent(id)}?fields=email%2Cuser_id&include_fields=true`,
    );
    const updated = await m.users.update(id, { nickname: 'countess', user_metadata: { lang: 'en' } });
    expect(updated).toEqual({
      ...ada,
      nickname: 'countess',
      user_metadata: { theme: 'dark', lang: 'en' },
      updated_at: expect.any(String),
    });

    const all = await m.users.list();
    expect(lastSent()).toBe('GET /api/v2/users?page=0&per_page=50&include_totals=true');
    expect(all.response).toEqual({ start: 0, limit: 50, length: 2, total: 2, users: all.data });
    expect(all.data.map((u) => u.email).sort()).toEqual(['ada@example.com', 'bob@example.com']);
    const found = await m.users.list({ q: 'email:"ada@example.com"', search_engine: 'v3', sort: 'email:1' });
    expect(lastSent()).toBe(
      'GET /api/v2/users?page=0&per_page=50&include_totals=true&sort=email%3A1&q=email%3A%22ada%40example.com%22&search_engine=v3',
    );
    expect(found.data).toEqual([updated]);
    expect(
      (await m.users.list({ connection: DB, fields: 'email', include_fields: true, sort: 'email:-1' })).data,
    ).toEqual([{ email: 'bob@example.com' }, { email: 'ada@example.com' }]);
    expect(
      (await m.users.list({ primary_order: true, q: 'given_name:Ada' })).data.map((u) => u.user_id),
    ).toEqual([id]);
    s.sent.length = 0;
    expect((await collect(await m.users.list({ per_page: 1, sort: 'email:1' }))).map((u) => u.email)).toEqual(
      ['ada@example.com', 'bob@example.com'],
    );
    expect(s.sent).toEqual([
      'GET /api/v2/users?page=0&per_page=1&include_totals=true&sort=email%3A1',
      'GET /api/v2/users?page=1&per_page=1&include_totals=true&sort=email%3A1',
      'GET /api/v2/users?page=2&per_page=1&include_totals=true&sort=email%3A1',
    ]);

    expect(await m.users.listUsersByEmail({ email: 'ADA@example.com' })).toEqual([updated]);
    expect(lastSent()).toBe('GET /api/v2/users-by-email?email=ADA%40example.com');
    expect(
      await m.users.listUsersByEmail({ email: 'bob@example.com', fields: 'user_id', include_fields: true }),
    ).toEqual([{ user_id: bob.user_id }]);

    await m.users.delete(bob.user_id ?? '');
    await expect(m.users.get(bob.user_id ?? '')).rejects.toMatchObject({
      statusCode: 404,
      body: {
        statusCode: 404,
        error: 'Not Found',
        message: 'The user does not exist.',
        errorCode: 'inexistent_user',
      },
    });
  });

  it('users.roles and users.permissions: assign, list, remove', async () => {
    const { management: m } = s;
    const user = await m.users.create({ connection: DB, email: 'roles@example.com', password: PASSWORD });
    const id = user.user_id ?? '';
    const roles = [await m.roles.create({ name: 'alpha' }), await m.roles.create({ name: 'beta' })];
    await m.users.roles.assign(id, { roles: roles.map((r) => r.id ?? '') });
    const listed = await m.users.roles.list(id);
    expect(lastSent()).toBe(
      `GET /api/v2/users/${encodeURIComponent(id)}/roles?per_page=50&page=0&include_totals=true`,
    );
    expect(listed.response).toEqual({ start: 0, limit: 50, total: 2, roles });
    expect(await collect(await m.users.roles.list(id, { per_page: 1 }))).toEqual(roles);
    await m.users.roles.delete(id, { roles: [roles[0]?.id ?? ''] });
    expect((await m.users.roles.list(id)).data).toEqual([roles[1]]);

    await m.users.permissions.create(id, {
      permissions: [
        { resource_server_identifier: API, permission_name: 'read:x' },
        { resource_server_identifier: API, permission_name: 'write:x' },
      ],
    });
    const permissions = await m.users.permissions.list(id);
    expect(lastSent()).toBe(
      `GET /api/v2/users/${encodeURIComponent(id)}/permissions?per_page=50&page=0&include_totals=true`,
    );
    expect(permissions.response).toMatchObject({
      start: 0,
      limit: 50,
      total: 2,
      permissions: [
        expect.objectContaining({
          resource_server_identifier: API,
          permission_name: 'read:x',
          description: 'Read x',
        }),
        expect.objectContaining({ resource_server_identifier: API, permission_name: 'write:x' }),
      ],
    });
    expect(await collect(await m.users.permissions.list(id, { per_page: 1 }))).toEqual(permissions.data);
    await m.users.permissions.delete(id, {
      permissions: [{ resource_server_identifier: API, permission_name: 'write:x' }],
    });
    expect((await m.users.permissions.list(id)).data.map((p) => p.permission_name)).toEqual(['read:x']);
  });

  it('userGrants: list, delete, deleteByUserId', async () => {
    const { management: m, t } = s;
    const make = createFactories(t.deps);
    const app = await make.client({ appType: 'regular_web', grantTypes: ['password'] });
    await make.enableConnection(app.clientId);
    const users = await Promise.all(
      ['g1@example.com', 'g2@example.com'].map((email) =>
        m.users.create({ connection: DB, email, password: PASSWORD }),
      ),
    );
    for (const u of users) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        ...form({
          grant_type: 'password',
          client_id: app.clientId,
          client_secret: app.clientSecret,
          username: u.email ?? '',
          password: PASSWORD,
          audience: API,
          scope: 'read:x',
        }),
      });
      expect(res.statusCode).toBe(200);
    }

    const all = await m.userGrants.list();
    expect(lastSent()).toBe('GET /api/v2/grants?per_page=50&page=0&include_totals=true');
    expect(all.response).toEqual({ start: 0, limit: 50, total: 2, grants: all.data });
    const [first] = (
      await m.userGrants.list({ user_id: users[0]?.user_id ?? '', client_id: app.clientId, audience: API })
    ).data;
    expect(first).toEqual({
      id: expect.any(String),
      clientID: app.clientId,
      user_id: users[0]?.user_id,
      audience: API,
      scope: ['read:x'],
    });
    expect(await collect(await m.userGrants.list({ per_page: 1 }))).toHaveLength(2);
    await m.userGrants.delete(first?.id ?? '');
    expect(lastSent()).toBe(`DELETE /api/v2/grants/${first?.id ?? ''}`);
    await m.userGrants.deleteByUserId({ user_id: users[1]?.user_id ?? '' });
    expect(lastSent()).toBe(`DELETE /api/v2/grants?user_id=${encodeURIComponent(users[1]?.user_id ?? '')}`);
    expect((await m.userGrants.list()).data).toEqual([]);
  });

  it('userBlocks: list by id and by identifier, delete by id and by identifier', async () => {
    const { management: m, t } = s;
    const user = await m.users.create({ connection: DB, email: 'blocked@example.com', password: PASSWORD });
    const id = user.user_id ?? '';
    const block = async () => {
      const now = Math.floor(t.clock.now() / 1000);
      await t.deps.store.loginFailures.reserveAttempt(id, '203.0.113.9', now, 300, 10);
      await t.deps.store.loginFailures.recordFailure(id, '203.0.113.9', now, 1, 900);
    };
    const blocked = {
      blocked_for: [{ identifier: 'blocked@example.com', ip: '203.0.113.9', connection: DB }],
    };

    await block();
    expect(await m.userBlocks.list(id)).toEqual(blocked);
    expect(lastSent()).toBe(`GET /api/v2/user-blocks/${encodeURIComponent(id)}`);
    expect(await m.userBlocks.list(id, { consider_brute_force_enablement: true })).toEqual(blocked);
    expect(lastSent()).toBe(
      `GET /api/v2/user-blocks/${encodeURIComponent(id)}?consider_brute_force_enablement=true`,
    );
    expect(await m.userBlocks.listByIdentifier({ identifier: 'blocked@example.com' })).toEqual(blocked);
    expect(lastSent()).toBe('GET /api/v2/user-blocks?identifier=blocked%40example.com');
    await m.userBlocks.delete(id);
    expect(await m.userBlocks.list(id)).toEqual({ blocked_for: [] });

    await block();
    // Auth0 docs: with consider_brute_force_enablement, a connection without brute-force protection has none.
    const db = (await m.connections.list({ name: DB })).data[0];
    await m.connections.update(db?.id ?? '', { options: { ...db?.options, brute_force_protection: false } });
    expect(
      await m.userBlocks.listByIdentifier({
        identifier: 'blocked@example.com',
        consider_brute_force_enablement: true,
      }),
    ).toEqual({ blocked_for: [] });
    expect(await m.userBlocks.listByIdentifier({ identifier: 'blocked@example.com' })).toEqual(blocked);
    await m.connections.update(db?.id ?? '', { options: db?.options ?? {} });
    await m.userBlocks.deleteByIdentifier({ identifier: 'blocked@example.com' });
    expect(lastSent()).toBe('DELETE /api/v2/user-blocks?identifier=blocked%40example.com');
    expect(await m.userBlocks.listByIdentifier({ identifier: 'blocked@example.com' })).toEqual({
      blocked_for: [],
    });
  });
});
