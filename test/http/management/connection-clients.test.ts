import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';

// What Auth0 documents (and auth0 v7 and the Deploy CLI send) for connections beyond create/read/update/
// delete: enabled clients as a sub-resource, repeated strategy filters, checkpoint paging beside totals,
// and the top-level settings.
describe.each(testBackends())('/api/v2/connections sub-resources and settings on $name', (backend) => {
  let t: TestApp;
  let token: string;
  let connectionId: string;
  const clientIds: string[] = [];
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
    const make = createFactories(t.deps);
    for (const n of [1, 2, 3]) clientIds.push((await make.client({ name: `app ${String(n)}` })).clientId);
    clientIds.sort();
    const res = await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token,
      body: { name: 'partners', strategy: 'auth0', enabled_clients: [clientIds[2]] },
    });
    connectionId = res.json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  const call = (method: 'GET' | 'PATCH' | 'POST', url: string, body?: unknown) =>
    api(t.app, { method, url: `/api/v2${url}`, token, body });

  it('enables and disables clients through PATCH /connections/{id}/clients and lists them by checkpoint', async () => {
    const patched = await call('PATCH', `/connections/${connectionId}/clients`, [
      { client_id: clientIds[0], status: true },
      { client_id: clientIds[1], status: true },
      { client_id: clientIds[2], status: false },
    ]);
    expect(patched.statusCode).toBe(204);
    expect(patched.body).toBe('');
    const all = await call('GET', `/connections/${connectionId}/clients`);
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ clients: [{ client_id: clientIds[0] }, { client_id: clientIds[1] }] });
    const first = await call('GET', `/connections/${connectionId}/clients?take=1`);
    expect(first.json()).toEqual({ clients: [{ client_id: clientIds[0] }], next: expect.any(String) });
    const next = first.json<{ next: string }>().next;
    expect((await call('GET', `/connections/${connectionId}/clients?take=1&from=${next}`)).json()).toEqual({
      clients: [{ client_id: clientIds[1] }],
    });
    expect((await call('GET', `/connections/${connectionId}`)).json()).toMatchObject({
      enabled_clients: [clientIds[0], clientIds[1]],
    });
  });

  it.each([
    [
      'an unknown client',
      [{ client_id: 'no-such-client', status: true }],
      'Payload validation error: client no-such-client does not exist (enabled_clients).',
    ],
    ['no change', [], "Payload validation error: 'must NOT have fewer than 1 items'."],
    [
      '51 changes (Auth0 docs: at most 50)',
      Array.from({ length: 51 }, () => ({ client_id: 'x', status: false })),
      "Payload validation error: 'must NOT have more than 50 items'.",
    ],
    [
      'a change without status',
      [{ client_id: 'x' }],
      "Payload validation error: 'Missing required property: status' on property 0.",
    ],
  ])('refuses %s with 400 invalid_body', async (_label, body, message) => {
    const res = await call('PATCH', `/connections/${connectionId}/clients`, body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ statusCode: 400, error: 'Bad Request', message, errorCode: 'invalid_body' });
  });

  it('answers 404 for the clients of an unknown connection', async () => {
    const res = await call('GET', '/connections/con_missing/clients');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The connection does not exist',
      errorCode: 'inexistent_connection',
    });
  });

  it('filters by repeated strategy and pages by checkpoint when include_totals comes with take', async () => {
    const names = (body: unknown) =>
      (body as { connections: { name: string }[] }).connections.map((c) => c.name);
    const res = await call('GET', '/connections?include_totals=true&take=50&strategy=auth0&strategy=samlp');
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json<object>())).toEqual(['connections']);
    expect(names(res.json()).sort()).toEqual(['Username-Password-Authentication', 'partners']);
    expect((await call('GET', '/connections?take=50&strategy=samlp')).json()).toEqual({ connections: [] });
    const offset = await call('GET', '/connections?include_totals=true&per_page=1&page=1&strategy=auth0');
    expect(offset.json()).toEqual({ start: 1, limit: 1, total: 2, connections: [expect.any(Object)] });
  });

  it('stores and returns the documented top-level settings; realms are always the name', async () => {
    const created = await call('POST', '/connections', {
      name: 'members',
      strategy: 'auth0',
      realms: ['members'],
      show_as_button: true,
      is_domain_connection: false,
      authentication: { active: true },
      connected_accounts: { active: false },
      cross_app_access_requesting_app: { active: false },
      cross_app_access_resource_app: { status: 'disabled' },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: string }>().id;
    const expected = {
      id,
      name: 'members',
      strategy: 'auth0',
      options: { passwordPolicy: 'good', brute_force_protection: true, requires_username: false },
      enabled_clients: [],
      realms: ['members'],
      is_domain_connection: false,
      show_as_button: true,
      authentication: { active: true },
      connected_accounts: { active: false },
      cross_app_access_requesting_app: { active: false },
      cross_app_access_resource_app: { status: 'disabled' },
    };
    expect(created.json()).toEqual(expected);
    const updated = await call('PATCH', `/connections/${id}`, {
      options: null,
      enabled_clients: null,
      is_domain_connection: true,
      cross_app_access_resource_app: null,
    });
    const { cross_app_access_resource_app: _gone, ...rest } = expected;
    expect(updated.json()).toEqual({ ...rest, options: {}, is_domain_connection: true });
    expect((await call('GET', `/connections/${id}`)).json()).toEqual(updated.json());

    const realm = await call('PATCH', `/connections/${id}`, { realms: ['example.com'] });
    expect(realm.statusCode).toBe(400);
    expect(realm.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Latchkey matches a database connection by its name only: realms must be ["members"].',
      errorCode: 'operation_not_supported',
    });
    const nested = await call('PATCH', `/connections/${id}`, { options: { show_as_button: true } });
    expect(nested.statusCode).toBe(400);
    expect(nested.json()).toMatchObject({
      errorCode: 'invalid_body',
      message: expect.stringContaining('show_as_button'),
    });
  });

  it('GET /actions/actions answers an empty list (Latchkey runs no Actions; the Deploy CLI reads it)', async () => {
    const res = await call('GET', '/actions/actions?page=0&per_page=100&deployed=true');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ total: 0, page: 0, per_page: 100, actions: [] });
    expect((await call('GET', '/actions/actions')).json()).toEqual({
      total: 0,
      page: 0,
      per_page: 20,
      actions: [],
    });
  });
});
