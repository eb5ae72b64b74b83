import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';

describe.each(testBackends())('/api/v2/roles and user roles/permissions on $name', (backend) => {
  let t: TestApp;
  let token: string;
  let apiId: string;
  let userId: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
    apiId = (
      await createFactories(t.deps).api({
        identifier: 'https://rbac.example.com/',
        name: 'RBAC API',
        scopes: [{ value: 'read:a', description: 'Read A' }, { value: 'write:a' }],
      })
    ).identifier;
    const res = await api(t.app, {
      method: 'POST',
      url: '/api/v2/users',
      token,
      body: {
        connection: 'Username-Password-Authentication',
        email: 'rbac@example.com',
        password: 'Strong-Pass-1',
      },
    });
    userId = res.json<{ user_id: string }>().user_id;
  });
  afterAll(async () => {
    await t.close();
  });

  const perms = (...names: string[]) => ({
    permissions: names.map((n) => ({ resource_server_identifier: apiId, permission_name: n })),
  });
  const userUrl = () => `/api/v2/users/${encodeURIComponent(userId)}`;

  it('creates, reads, renames, lists and deletes roles', async () => {
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/roles',
      token,
      body: { name: 'Editors ✎', description: 'Can edit' },
    });
    expect(created.statusCode).toBe(200);
    const role = created.json<{ id: string }>();
    expect(role).toEqual({ id: expect.stringMatching(/^rol_/), name: 'Editors ✎', description: 'Can edit' });
    expect(
      (await api(t.app, { method: 'POST', url: '/api/v2/roles', token, body: { name: 'Editors ✎' } }))
        .statusCode,
    ).toBe(409);
    const renamed = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/roles/${role.id}`,
      token,
      body: { name: 'Writers' },
    });
    expect(renamed.json()).toEqual({ id: role.id, name: 'Writers', description: 'Can edit' });
    const list = await api(t.app, {
      method: 'GET',
      url: '/api/v2/roles?name_filter=Writ&include_totals=true',
      token,
    });
    expect(list.json()).toEqual({
      start: 0,
      limit: 50,
      total: 1,
      roles: [{ id: role.id, name: 'Writers', description: 'Can edit' }],
    });
    expect((await api(t.app, { method: 'DELETE', url: `/api/v2/roles/${role.id}`, token })).statusCode).toBe(
      204,
    );
    const gone = await api(t.app, { method: 'GET', url: `/api/v2/roles/${role.id}`, token });
    expect(gone.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The role does not exist.',
      errorCode: 'inexistent_role',
    });
  });

  it('gives roles permissions that must name an existing API and scope', async () => {
    const role = (
      await api(t.app, { method: 'POST', url: '/api/v2/roles', token, body: { name: 'Readers' } })
    ).json<{ id: string }>();
    expect(
      (
        await api(t.app, {
          method: 'POST',
          url: `/api/v2/roles/${role.id}/permissions`,
          token,
          body: perms('read:a'),
        })
      ).statusCode,
    ).toBe(201);
    const bad = await api(t.app, {
      method: 'POST',
      url: `/api/v2/roles/${role.id}/permissions`,
      token,
      body: perms('fly'),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      message: 'Payload validation error: fly is not a scope of https://rbac.example.com/.',
    });
    const noApi = await api(t.app, {
      method: 'POST',
      url: `/api/v2/roles/${role.id}/permissions`,
      token,
      body: { permissions: [{ resource_server_identifier: 'https://none/', permission_name: 'x' }] },
    });
    expect(noApi.statusCode).toBe(400);
    const listed = await api(t.app, { method: 'GET', url: `/api/v2/roles/${role.id}/permissions`, token });
    expect(listed.json()).toEqual([
      {
        resource_server_identifier: apiId,
        permission_name: 'read:a',
        resource_server_name: 'RBAC API',
        description: 'Read A',
      },
    ]);
    expect(
      (
        await api(t.app, {
          method: 'DELETE',
          url: `/api/v2/roles/${role.id}/permissions`,
          token,
          body: perms('read:a'),
        })
      ).statusCode,
    ).toBe(204);
    expect(
      (await api(t.app, { method: 'GET', url: `/api/v2/roles/${role.id}/permissions`, token })).json(),
    ).toEqual([]);
  });

  it('assigns roles and direct permissions to users and computes effective permissions', async () => {
    const role = (
      await api(t.app, { method: 'POST', url: '/api/v2/roles', token, body: { name: 'Role A' } })
    ).json<{ id: string }>();
    await api(t.app, {
      method: 'POST',
      url: `/api/v2/roles/${role.id}/permissions`,
      token,
      body: perms('read:a'),
    });
    expect(
      (await api(t.app, { method: 'POST', url: `${userUrl()}/roles`, token, body: { roles: [role.id] } }))
        .statusCode,
    ).toBe(204);
    expect((await api(t.app, { method: 'GET', url: `${userUrl()}/roles`, token })).json()).toEqual([
      { id: role.id, name: 'Role A', description: '' },
    ]);
    const members = await api(t.app, { method: 'GET', url: `/api/v2/roles/${role.id}/users`, token });
    expect(members.json()).toEqual([
      { user_id: userId, email: 'rbac@example.com', name: 'rbac@example.com' },
    ]);
    expect(
      (await api(t.app, { method: 'POST', url: `${userUrl()}/permissions`, token, body: perms('write:a') }))
        .statusCode,
    ).toBe(201);
    expect((await api(t.app, { method: 'GET', url: `${userUrl()}/permissions`, token })).json()).toEqual([
      {
        permission_name: 'read:a',
        description: 'Read A',
        resource_server_name: 'RBAC API',
        resource_server_identifier: apiId,
        sources: [{ source_id: role.id, source_name: 'Role A', source_type: 'ROLE' }],
      },
      {
        permission_name: 'write:a',
        description: '',
        resource_server_name: 'RBAC API',
        resource_server_identifier: apiId,
        sources: [{ source_id: '', source_name: '', source_type: 'DIRECT' }],
      },
    ]);
    expect((await t.deps.store.roles.effectivePermissions(userId, apiId)).sort()).toEqual([
      'read:a',
      'write:a',
    ]);
    await api(t.app, { method: 'DELETE', url: `${userUrl()}/roles`, token, body: { roles: [role.id] } });
    expect(await t.deps.store.roles.effectivePermissions(userId, apiId)).toEqual(['write:a']);
    const unknownRole = await api(t.app, {
      method: 'POST',
      url: `${userUrl()}/roles`,
      token,
      body: { roles: ['rol_nope'] },
    });
    expect(unknownRole.statusCode).toBe(404);
    const unknownUser = await api(t.app, { method: 'GET', url: '/api/v2/users/auth0%7Cnobody/roles', token });
    expect(unknownUser.json()).toMatchObject({ errorCode: 'inexistent_user' });
  });

  it('lists role members with the real total, by offset and by checkpoint (spec 4.1, 4.8)', async () => {
    const role = (
      await api(t.app, { method: 'POST', url: '/api/v2/roles', token, body: { name: 'Members' } })
    ).json<{ id: string }>();
    const ids: string[] = [];
    for (const i of [1, 2, 3]) {
      const res = await api(t.app, {
        method: 'POST',
        url: '/api/v2/users',
        token,
        body: {
          connection: 'Username-Password-Authentication',
          user_id: `member-${i}`,
          email: `member-${i}@example.com`,
          password: 'Strong-Pass-1',
        },
      });
      ids.push(res.json<{ user_id: string }>().user_id);
    }
    await api(t.app, { method: 'POST', url: `/api/v2/roles/${role.id}/users`, token, body: { users: ids } });
    const member = (i: number) => ({
      user_id: `auth0|member-${i}`,
      email: `member-${i}@example.com`,
      name: `member-${i}@example.com`,
    });
    const url = `/api/v2/roles/${role.id}/users`;

    const totals = await api(t.app, { method: 'GET', url: `${url}?include_totals=true&per_page=2`, token });
    expect(totals.statusCode).toBe(200);
    expect(totals.json()).toEqual({ start: 0, limit: 2, total: 3, users: [member(1), member(2)] });
    const second = await api(t.app, {
      method: 'GET',
      url: `${url}?include_totals=true&per_page=2&page=1`,
      token,
    });
    expect(second.json()).toEqual({ start: 2, limit: 2, total: 3, users: [member(3)] });

    const first = await api(t.app, { method: 'GET', url: `${url}?take=2`, token });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ users: [member(1), member(2)], next: expect.any(String) });
    const next = first.json<{ next: string }>().next;
    const last = await api(t.app, { method: 'GET', url: `${url}?take=2&from=${next}`, token });
    expect(last.json()).toEqual({ users: [member(3)] });

    // Auth0 compat: checkpoint paging wins; page, per_page and include_totals are ignored beside take/from.
    const mixed = await api(t.app, {
      method: 'GET',
      url: `${url}?take=2&page=1&per_page=1&include_totals=true`,
      token,
    });
    expect(mixed.statusCode).toBe(200);
    expect(mixed.json()).toEqual(first.json());
  });

  it('checks scopes', async () => {
    const narrow = await t.managementTokenWith(['read:roles']);
    const res = await api(t.app, {
      method: 'POST',
      url: '/api/v2/roles',
      token: narrow,
      body: { name: 'x' },
    });
    expect(res.json()).toMatchObject({
      statusCode: 403,
      message: 'Insufficient scope, expected any of: create:roles',
    });
  });
});
