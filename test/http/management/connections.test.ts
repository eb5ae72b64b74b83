import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

describe.each(testBackends())('/api/v2/connections on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists the default database connection in Auth0 shape, with the recommended password options', async () => {
    const res = await api(t.app, { method: 'GET', url: '/api/v2/connections?strategy=auth0', token });
    expect(res.json()).toEqual([
      {
        id: expect.stringMatching(/^con_/),
        name: 'Username-Password-Authentication',
        strategy: 'auth0',
        options: {
          passwordPolicy: 'low',
          password_complexity_options: { min_length: 12 },
          password_dictionary: { enable: true, dictionary: [] },
          password_no_personal_info: { enable: true },
          brute_force_protection: true,
          requires_username: false,
        },
        enabled_clients: [],
        realms: ['Username-Password-Authentication'],
        is_domain_connection: false,
      },
    ]);
  });

  it('creates, reads, updates and deletes a connection; new clients join the default directory', async () => {
    const client = (
      await api(t.app, { method: 'POST', url: '/api/v2/clients', token, body: { name: 'app' } })
    ).json<{ client_id: string }>();
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token,
      body: {
        name: 'customers',
        strategy: 'auth0',
        display_name: 'Customers ✓',
        enabled_clients: [client.client_id],
        options: { passwordPolicy: 'excellent', password_complexity_options: { min_length: 12 } },
      },
    });
    expect(created.statusCode).toBe(201);
    const conn = created.json<{ id: string }>();
    expect(conn).toMatchObject({
      name: 'customers',
      display_name: 'Customers ✓',
      enabled_clients: [client.client_id],
      options: { passwordPolicy: 'excellent', password_complexity_options: { min_length: 12 } },
    });
    expect(
      (
        await api(t.app, {
          method: 'POST',
          url: '/api/v2/connections',
          token,
          body: { name: 'customers', strategy: 'auth0' },
        })
      ).statusCode,
    ).toBe(409);

    const weak = await api(t.app, {
      method: 'POST',
      url: '/api/v2/users',
      token,
      body: { connection: 'customers', email: 'c@example.com', password: 'Abcdef-12' },
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'PasswordStrengthError: Password is too weak',
      errorCode: 'invalid_body',
    });

    const patched = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/connections/${conn.id}`,
      token,
      body: { options: { passwordPolicy: 'low' } },
    });
    expect(patched.json()).toMatchObject({ options: { passwordPolicy: 'low' }, display_name: 'Customers ✓' });
    expect(
      (
        await api(t.app, {
          method: 'POST',
          url: '/api/v2/users',
          token,
          body: { connection: 'customers', email: 'c@example.com', password: 'abcdef' },
        })
      ).statusCode,
    ).toBe(201);

    const defaultConn = (
      await api(t.app, {
        method: 'GET',
        url: '/api/v2/connections?name=Username-Password-Authentication',
        token,
      })
    ).json<{ enabled_clients: string[] }[]>();
    expect(defaultConn[0]?.enabled_clients).toContain(client.client_id);

    expect(
      (await api(t.app, { method: 'DELETE', url: `/api/v2/connections/${conn.id}`, token })).statusCode,
    ).toBe(202);
    expect(
      (await api(t.app, { method: 'GET', url: `/api/v2/connections/${conn.id}`, token })).json(),
    ).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The connection does not exist',
      errorCode: 'inexistent_connection',
    });
    expect(await t.deps.store.users.findByEmail('c@example.com')).toEqual([]);
  });

  it.each([
    [{ name: 'bad name!', strategy: 'auth0' }, 'on property name'],
    [{ name: 'x', strategy: 'google-oauth2' }, 'on property strategy'],
    [{ name: 'x', strategy: 'auth0', options: { passwordPolicy: 'extreme' } }, 'passwordPolicy'],
    [{ name: 'x', strategy: 'auth0', enabled_clients: ['nope'] }, 'client nope does not exist'],
    [{ name: 'x', strategy: 'auth0', extra: 1 }, "'Additional properties not allowed: extra'"],
  ])('refuses %j', async (body, message) => {
    const res = await api(t.app, { method: 'POST', url: '/api/v2/connections', token, body });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      errorCode: 'invalid_body',
      message: expect.stringContaining(message),
    });
  });

  it('applies fields and include_fields to GET /connections/{id}', async () => {
    const list = await api(t.app, { method: 'GET', url: '/api/v2/connections?strategy=auth0', token });
    const id = list.json<{ id: string }[]>()[0]?.id ?? '';
    const only = await api(t.app, { method: 'GET', url: `/api/v2/connections/${id}?fields=id,name`, token });
    expect(only.json()).toEqual({ id, name: 'Username-Password-Authentication' });
    const without = await api(t.app, {
      method: 'GET',
      url: `/api/v2/connections/${id}?fields=options,enabled_clients&include_fields=false`,
      token,
    });
    expect(without.json()).toMatchObject({ id, name: 'Username-Password-Authentication', strategy: 'auth0' });
    expect(without.json()).not.toHaveProperty('options');
    expect(without.json()).not.toHaveProperty('enabled_clients');
  });

  it('refuses to delete the default directory', async () => {
    const list = (
      await api(t.app, {
        method: 'GET',
        url: '/api/v2/connections?name=Username-Password-Authentication',
        token,
      })
    ).json<{ id: string }[]>();
    const res = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/connections/${list[0]?.id ?? ''}`,
      token,
    });
    expect(res.statusCode).toBe(400);
  });

  it('pages by checkpoint', async () => {
    for (const name of ['cp-one', 'cp-two'])
      await api(t.app, {
        method: 'POST',
        url: '/api/v2/connections',
        token,
        body: { name, strategy: 'auth0' },
      });
    const first = (await api(t.app, { method: 'GET', url: '/api/v2/connections?take=1', token })).json<{
      connections: unknown[];
      next: string;
    }>();
    expect(first.connections).toHaveLength(1);
    const second = (
      await api(t.app, { method: 'GET', url: `/api/v2/connections?take=50&from=${first.next}`, token })
    ).json<{ connections: unknown[]; next?: string }>();
    expect(second.connections.length).toBeGreaterThanOrEqual(2);
    expect(second.next).toBeUndefined();
  });

  // 'AA' decodes to "\0", which PostgreSQL refuses in a text comparison (it answered 500).
  it('answers 400 invalid_query_string for a checkpoint cursor that is not an id', async () => {
    const res = await api(t.app, { method: 'GET', url: '/api/v2/connections?take=1&from=AA', token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Query validation error: from is not a valid checkpoint.',
      errorCode: 'invalid_query_string',
    });
  });

  // options.metadata used to be stored and lifted out unchecked, and every later list answered 500.
  it.each(['metadata', 'display_name'])(
    'refuses options.%s, which would shadow the top-level field, and keeps listing working',
    async (key) => {
      const res = await api(t.app, {
        method: 'POST',
        url: '/api/v2/connections',
        token,
        body: { name: `shadow-${key.replace('_', '-')}`, strategy: 'auth0', options: { [key]: 'x' } },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: `Payload validation error: 'Additional properties not allowed: ${key}' on property options (send ${key} at the top level).`,
        errorCode: 'invalid_body',
      });
      const list = await api(t.app, { method: 'GET', url: '/api/v2/connections', token });
      expect(list.statusCode).toBe(200);
      expect(list.json<{ name: string }[]>().map((c) => c.name)).not.toContain(
        `shadow-${key.replace('_', '-')}`,
      );
    },
  );

  it('refuses options.metadata on update too, and keeps top-level metadata readable', async () => {
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token,
      body: { name: 'with-metadata', strategy: 'auth0', metadata: { tier: 'gold' } },
    });
    const { id } = created.json<{ id: string }>();
    const patched = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/connections/${id}`,
      token,
      body: { options: { metadata: 'x' } },
    });
    expect(patched.statusCode).toBe(400);
    expect(patched.json()).toMatchObject({ errorCode: 'invalid_body' });
    const list = await api(t.app, { method: 'GET', url: '/api/v2/connections?name=with-metadata', token });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([
      {
        id,
        name: 'with-metadata',
        strategy: 'auth0',
        options: { passwordPolicy: 'good', brute_force_protection: true, requires_username: false },
        enabled_clients: [],
        realms: ['with-metadata'],
        is_domain_connection: false,
        metadata: { tier: 'gold' },
      },
    ]);
  });

  it('keeps every application in enabled_clients under concurrent writes and drops deleted ones', async () => {
    const enabled = async () => {
      const res = await api(t.app, {
        method: 'GET',
        url: '/api/v2/connections?name=Username-Password-Authentication',
        token,
      });
      return res.json<{ enabled_clients: string[] }[]>()[0]?.enabled_clients ?? [];
    };
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api(t.app, { method: 'POST', url: '/api/v2/clients', token, body: { name: `burst-${i}` } }),
      ),
    );
    const ids = created.map((r) => r.json<{ client_id: string }>().client_id);
    expect(await enabled()).toEqual(expect.arrayContaining(ids));

    const [gone, kept] = [ids.slice(0, 6), ids.slice(6)];
    const deleted = await Promise.all(
      gone.map((id) => api(t.app, { method: 'DELETE', url: `/api/v2/clients/${id}`, token })),
    );
    expect(deleted.map((r) => r.statusCode)).toEqual(gone.map(() => 204));
    const after = await enabled();
    expect(after).toEqual(expect.arrayContaining(kept));
    expect(after.filter((id) => gone.includes(id))).toEqual([]);
  });
});
