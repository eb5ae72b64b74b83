import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { collect, startSdkServer, type SdkServer } from '../../helpers/sdk.js';

const API = 'https://sdk-directory.example.com/';

// auth0 v7's ManagementClient against a listening server: every method of the connection (with its enabled
// clients) and role (with permissions and members) endpoints, and the exact requests each one sends.
describe.each(testBackends())('auth0 v7 ManagementClient: connections and roles on $name', (backend) => {
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

  it('connections: create, get, update, list every way, enabled clients, delete', async () => {
    const { management: m } = s;
    const app = await m.clients.create({ name: 'conn app', app_type: 'regular_web' });
    const other = await m.clients.create({ name: 'conn other', app_type: 'spa' });
    const appId = app.client_id ?? '';
    const otherId = other.client_id ?? '';
    const created = await m.connections.create({
      name: 'sdk-db',
      strategy: 'auth0',
      display_name: 'SDK database',
      options: { passwordPolicy: 'fair', requires_username: true },
      enabled_clients: [appId],
      metadata: { owner: 'sdk' },
      show_as_button: false,
      realms: ['sdk-db'],
      authentication: { active: true },
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^con_/),
      name: 'sdk-db',
      display_name: 'SDK database',
      strategy: 'auth0',
      options: { passwordPolicy: 'fair', brute_force_protection: true, requires_username: true },
      enabled_clients: [appId],
      realms: ['sdk-db'],
      is_domain_connection: false,
      show_as_button: false,
      metadata: { owner: 'sdk' },
      authentication: { active: true },
    });
    const id = created.id ?? '';
    expect(await m.connections.get(id)).toEqual(created);
    expect(await m.connections.get(id, { fields: 'name,strategy', include_fields: true })).toEqual({
      name: 'sdk-db',
      strategy: 'auth0',
    });
    expect(lastSent()).toBe(`GET /api/v2/connections/${id}?fields=name%2Cstrategy&include_fields=true`);
    const updated = await m.connections.update(id, {
      options: { passwordPolicy: 'good' },
      is_domain_connection: true,
    });
    expect(updated).toEqual({ ...created, options: { passwordPolicy: 'good' }, is_domain_connection: true });

    // v7 sends include_totals=true with take=50: a checkpoint page `{connections, next}`.
    const listed = await m.connections.list();
    expect(lastSent()).toBe('GET /api/v2/connections?include_totals=true&take=50');
    expect(listed.response).toEqual({ connections: listed.data });
    expect(listed.data.map((c) => c.name).sort()).toEqual(['Username-Password-Authentication', 'sdk-db']);
    expect((await m.connections.list({ strategy: ['auth0', 'google-oauth2'], name: 'sdk-db' })).data).toEqual(
      [updated],
    );
    expect(lastSent()).toBe(
      'GET /api/v2/connections?include_totals=true&take=50&strategy=auth0&strategy=google-oauth2&name=sdk-db',
    );
    expect((await m.connections.list({ strategy: 'waad' })).data).toEqual([]);
    expect((await m.connections.list({ fields: 'name', include_fields: true, take: 1 })).data).toEqual([
      { name: listed.data[0]?.name },
    ]);
    s.sent.length = 0;
    expect((await collect(await m.connections.list({ take: 1 }))).map((c) => c.id)).toEqual(
      listed.data.map((c) => c.id),
    );
    expect(s.sent).toEqual([
      'GET /api/v2/connections?include_totals=true&take=1',
      expect.stringMatching(/^GET \/api\/v2\/connections\?include_totals=true&from=[\w-]+&take=1$/),
    ]);

    await m.connections.clients.update(id, [
      { client_id: otherId, status: true },
      { client_id: appId, status: false },
    ]);
    expect(lastSent()).toBe(`PATCH /api/v2/connections/${id}/clients`);
    expect((await m.connections.get(id)).enabled_clients).toEqual([otherId]);
    await m.connections.clients.update(id, [{ client_id: appId, status: true }]);
    const enabled = await m.connections.clients.get(id);
    expect(lastSent()).toBe(`GET /api/v2/connections/${id}/clients?take=50`);
    expect(enabled.response).toEqual({ clients: [appId, otherId].sort().map((c) => ({ client_id: c })) });
    expect((await collect(await m.connections.clients.get(id, { take: 1 }))).map((c) => c.client_id)).toEqual(
      [appId, otherId].sort(),
    );
    await expect(
      m.connections.clients.update(id, [{ client_id: 'missing', status: true }]),
    ).rejects.toMatchObject({
      statusCode: 400,
      body: { errorCode: 'invalid_body' },
    });

    await m.connections.delete(id);
    await expect(m.connections.get(id)).rejects.toMatchObject({
      statusCode: 404,
      body: { errorCode: 'inexistent_connection' },
    });
  });

  it('roles: create, get, update, list every way, permissions, members, delete', async () => {
    const { management: m } = s;
    const reader = await m.roles.create({ name: 'read_only', description: 'Reads' });
    expect(reader).toEqual({ id: expect.stringMatching(/^rol_/), name: 'read_only', description: 'Reads' });
    const id = reader.id ?? '';
    const writer = await m.roles.create({ name: 'Writer', type: 'tenant' });
    expect(await m.roles.get(id)).toEqual(reader);
    const updated = await m.roles.update(id, { description: 'Reads everything' });
    expect(updated).toEqual({ ...reader, description: 'Reads everything' });

    const all = await m.roles.list();
    expect(lastSent()).toBe('GET /api/v2/roles?per_page=50&page=0&include_totals=true');
    expect(all.response).toEqual({ start: 0, limit: 50, total: 2, roles: [updated, writer] });
    expect((await m.roles.list({ name_filter: 'READ_', type: 'tenant' })).data).toEqual([updated]);
    expect(lastSent()).toBe(
      'GET /api/v2/roles?per_page=50&page=0&include_totals=true&name_filter=READ_&type=tenant',
    );
    expect((await m.roles.list({ type: 'organization', owner_id: 'org_1' })).data).toEqual([]);
    expect(await collect(await m.roles.list({ per_page: 1 }))).toEqual([updated, writer]);
    expect((await m.roles.list({ include_totals: false })).response).toEqual([updated, writer]);

    await m.roles.permissions.add(id, {
      permissions: [
        { resource_server_identifier: API, permission_name: 'read:x' },
        { resource_server_identifier: API, permission_name: 'write:x' },
      ],
    });
    const permissions = await m.roles.permissions.list(id);
    expect(lastSent()).toBe(`GET /api/v2/roles/${id}/permissions?per_page=50&page=0&include_totals=true`);
    expect(permissions.response).toEqual({
      start: 0,
      limit: 50,
      total: 2,
      permissions: [
        {
          resource_server_identifier: API,
          permission_name: 'read:x',
          resource_server_name: API,
          description: 'Read x',
        },
        {
          resource_server_identifier: API,
          permission_name: 'write:x',
          resource_server_name: API,
          description: '',
        },
      ],
    });
    expect(await collect(await m.roles.permissions.list(id, { per_page: 1 }))).toEqual(permissions.data);
    await m.roles.permissions.delete(id, {
      permissions: [{ resource_server_identifier: API, permission_name: 'write:x' }],
    });
    expect((await m.roles.permissions.list(id)).data.map((p) => p.permission_name)).toEqual(['read:x']);

    const users = [];
    for (const n of [1, 2, 3]) {
      users.push(
        await m.users.create({
          connection: 'Username-Password-Authentication',
          email: `member${String(n)}@example.com`,
          password: 'Pass-word-123',
        }),
      );
    }
    await m.roles.users.assign(id, { users: users.map((u) => u.user_id ?? '') });
    // v7 sends include_totals=true with take=50 to role members: a checkpoint page `{users, next}`.
    const members = await m.roles.users.list(id);
    expect(lastSent()).toBe(`GET /api/v2/roles/${id}/users?include_totals=true&take=50`);
    const expected = users
      .map((u) => ({ user_id: u.user_id, email: u.email, name: u.name }))
      .sort((a, b) => ((a.user_id ?? '') < (b.user_id ?? '') ? -1 : 1));
    expect(members.response).toEqual({ users: expected });
    s.sent.length = 0;
    expect(await collect(await m.roles.users.list(id, { take: 2 }))).toEqual(expected);
    expect(s.sent).toEqual([
      `GET /api/v2/roles/${id}/users?include_totals=true&take=2`,
      expect.stringMatching(
        new RegExp(`^GET /api/v2/roles/${id}/users\\?include_totals=true&from=[\\w-]+&take=2$`),
      ),
    ]);

    await m.roles.delete(id);
    await expect(m.roles.get(id)).rejects.toMatchObject({
      statusCode: 404,
      body: { errorCode: 'inexistent_role', message: 'The role does not exist.' },
    });
  });
});
