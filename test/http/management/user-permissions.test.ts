import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';

const API_A = 'https://perm-a.example.com/';
const API_B = 'https://perm-b.example.com/';

describe.each(testBackends())('GET /api/v2/users/{id}/permissions with sources on $name', (backend) => {
  let t: TestApp;
  let token: string;
  let alpha: string;
  let beta: string;
  let userUrl: string;

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) =>
    api(t.app, { method, url, token, ...(body !== undefined ? { body } : {}) });
  const refs = (...pairs: [string, string][]) => ({
    permissions: pairs.map(([identifier, name]) => ({
      resource_server_identifier: identifier,
      permission_name: name,
    })),
  });
  const createRole = async (name: string, ...pairs: [string, string][]) => {
    const id = (await call('POST', '/api/v2/roles', { name })).json<{ id: string }>().id;
    expect((await call('POST', `/api/v2/roles/${id}/permissions`, refs(...pairs))).statusCode).toBe(201);
    return id;
  };

  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
    const make = createFactories(t.deps);
    await make.api({
      identifier: API_A,
      name: 'Perm A',
      scopes: [{ value: 'read:x', description: 'Read X' }, { value: 'write:x' }, { value: 'delete:x' }],
    });
    await make.api({
      identifier: API_B,
      name: 'Perm B',
      scopes: [{ value: 'read:y', description: 'Read Y' }],
    });
    alpha = await createRole('Alpha', [API_A, 'read:x'], [API_A, 'write:x']);
    beta = await createRole('Beta', [API_A, 'read:x'], [API_B, 'read:y']);
    const user = await make.user();
    userUrl = `/api/v2/users/${encodeURIComponent(user.userId)}`;
    expect((await call('POST', `${userUrl}/roles`, { roles: [beta, alpha] })).statusCode).toBe(204);
    const direct = refs([API_A, 'read:x'], [API_A, 'delete:x']);
    expect((await call('POST', `${userUrl}/permissions`, direct)).statusCode).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  const DIRECT = { source_id: '', source_name: '', source_type: 'DIRECT' };
  const role = (id: () => string, name: string) => ({
    source_id: id(),
    source_name: name,
    source_type: 'ROLE',
  });
  const fromAlpha = () => role(() => alpha, 'Alpha');
  const fromBeta = () => role(() => beta, 'Beta');
  const permission = (
    identifier: string,
    name: string,
    description: string,
    sources: Record<string, string>[],
  ) => ({
    permission_name: name,
    description,
    resource_server_name: identifier === API_A ? 'Perm A' : 'Perm B',
    resource_server_identifier: identifier,
    sources,
  });

  it('lists direct and role permissions once each, with every source (the Dashboard Assignment column)', async () => {
    const res = await call('GET', `${userUrl}/permissions`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      permission(API_A, 'delete:x', '', [DIRECT]),
      permission(API_A, 'read:x', 'Read X', [DIRECT, fromAlpha(), fromBeta()]),
      permission(API_A, 'write:x', '', [fromAlpha()]),
      permission(API_B, 'read:y', 'Read Y', [fromBeta()]),
    ]);
  });

  it('pages by distinct permission with totals {start, limit, total, permissions}', async () => {
    const first = await call('GET', `${userUrl}/permissions?include_totals=true&per_page=2`);
    expect(first.json()).toEqual({
      start: 0,
      limit: 2,
      total: 4,
      permissions: [
        permission(API_A, 'delete:x', '', [DIRECT]),
        permission(API_A, 'read:x', 'Read X', [DIRECT, fromAlpha(), fromBeta()]),
      ],
    });
    const second = await call('GET', `${userUrl}/permissions?include_totals=true&per_page=2&page=1`);
    expect(second.json()).toEqual({
      start: 2,
      limit: 2,
      total: 4,
      permissions: [
        permission(API_A, 'write:x', '', [fromAlpha()]),
        permission(API_B, 'read:y', 'Read Y', [fromBeta()]),
      ],
    });
    const past = await call('GET', `${userUrl}/permissions?include_totals=true&per_page=3&page=2`);
    expect(past.json()).toEqual({ start: 6, limit: 3, total: 4, permissions: [] });
    const bare = await call('GET', `${userUrl}/permissions?per_page=1&page=3`);
    expect(bare.json()).toEqual([permission(API_B, 'read:y', 'Read Y', [fromBeta()])]);
  });

  it('keeps a role permission listed after its direct assignment is deleted, and adds DIRECT on POST', async () => {
    const removed = await call('DELETE', `${userUrl}/permissions`, refs([API_A, 'read:x']));
    expect(removed.statusCode).toBe(204);
    const added = await call('POST', `${userUrl}/permissions`, refs([API_A, 'write:x']));
    expect(added.statusCode).toBe(201);
    expect((await call('GET', `${userUrl}/permissions`)).json()).toEqual([
      permission(API_A, 'delete:x', '', [DIRECT]),
      permission(API_A, 'read:x', 'Read X', [fromAlpha(), fromBeta()]),
      permission(API_A, 'write:x', '', [DIRECT, fromAlpha()]),
      permission(API_B, 'read:y', 'Read Y', [fromBeta()]),
    ]);

    // Deleting a permission the user holds only through a role changes nothing.
    expect((await call('DELETE', `${userUrl}/permissions`, refs([API_B, 'read:y']))).statusCode).toBe(204);
    expect((await call('DELETE', `${userUrl}/roles`, { roles: [beta] })).statusCode).toBe(204);
    expect((await call('GET', `${userUrl}/permissions?include_totals=true`)).json()).toEqual({
      start: 0,
      limit: 50,
      total: 3,
      permissions: [
        permission(API_A, 'delete:x', '', [DIRECT]),
        permission(API_A, 'read:x', 'Read X', [fromAlpha()]),
        permission(API_A, 'write:x', '', [DIRECT, fromAlpha()]),
      ],
    });
  });

  it('answers an empty list for a user without permissions, and 404 inexistent_user for an unknown one', async () => {
    const other = await createFactories(t.deps).user();
    const url = `/api/v2/users/${encodeURIComponent(other.userId)}/permissions?include_totals=true`;
    expect((await call('GET', url)).json()).toEqual({ start: 0, limit: 50, total: 0, permissions: [] });
    const missing = await call('GET', '/api/v2/users/auth0%7Cnobody/permissions');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The user does not exist.',
      errorCode: 'inexistent_user',
    });
  });
});
