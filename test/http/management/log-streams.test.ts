import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

const SINK = {
  httpEndpoint: 'https://logs.example.com/auth0',
  httpContentFormat: 'JSONLINES',
  httpContentType: 'application/x-ndjson',
  httpAuthorization: 'Bearer stream-secret-0123456789',
  httpCustomHeaders: [{ header: 'X-Tenant', value: 'acme' }],
};

const invalidBody = (message: string) => ({
  statusCode: 400,
  error: 'Bad Request',
  message,
  errorCode: 'invalid_body',
});

describe.each(testBackends())('/api/v2/log-streams on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
    api(t.app, { method, url: `/api/v2${url}`, token, ...(body !== undefined ? { body } : {}) });
  const create = (body: Record<string, unknown>) => call('POST', '/log-streams', body);

  it('creates, reads, lists, updates and deletes an http stream in Auth0’s item shape', async () => {
    const created = await create({
      name: 'SIEM',
      type: 'http',
      sink: SINK,
      filters: [{ type: 'category', name: 'auth.login.fail' }],
      isPriority: true,
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const item = created.json<{ id: string }>();
    expect(item).toEqual({
      id: expect.stringMatching(/^lst_[A-Za-z0-9]{16}$/),
      name: 'SIEM',
      type: 'http',
      status: 'active',
      sink: SINK,
      filters: [{ type: 'category', name: 'auth.login.fail' }],
      isPriority: true,
    });

    expect((await call('GET', `/log-streams/${item.id}`)).json()).toEqual(item);
    const list = await call('GET', '/log-streams');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([item]);

    const patched = await call('PATCH', `/log-streams/${item.id}`, {
      name: 'SIEM 2',
      status: 'paused',
      sink: { httpEndpoint: 'https://other.example.com/in', httpContentFormat: 'JSONOBJECT' },
      filters: [{ type: 'category', name: 'management.success' }],
      isPriority: false,
    });
    expect(patched.statusCode).toBe(200);
    // Sink fields not sent keep their values (Auth0 merges the sink).
    const expected = {
      ...item,
      name: 'SIEM 2',
      status: 'paused',
      sink: { ...SINK, httpEndpoint: 'https://other.example.com/in', httpContentFormat: 'JSONOBJECT' },
      filters: [{ type: 'category', name: 'management.success' }],
      isPriority: false,
    };
    expect(patched.json()).toEqual(expected);
    expect((await call('GET', `/log-streams/${item.id}`)).json()).toEqual(expected);

    const deleted = await call('DELETE', `/log-streams/${item.id}`);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await call('GET', '/log-streams')).json()).toEqual([]);
  });

  it('defaults the format to JSONARRAY, the name to the id and leaves out absent fields', async () => {
    const res = await create({ type: 'http', sink: { httpEndpoint: 'https://logs.example.com/min' } });
    expect(res.statusCode).toBe(201);
    const item = res.json<{ id: string }>();
    expect(item).toEqual({
      id: expect.stringMatching(/^lst_/),
      name: item.id,
      type: 'http',
      status: 'active',
      sink: { httpEndpoint: 'https://logs.example.com/min', httpContentFormat: 'JSONARRAY' },
      isPriority: false,
    });
    await call('DELETE', `/log-streams/${item.id}`);
  });

  it('stores the authorization value sealed, never in clear', async () => {
    const res = await create({ name: 'sealed', type: 'http', sink: SINK });
    const { id } = res.json<{ id: string }>();
    const row = await t.deps.storage.db
      .selectFrom('log_streams')
      .select(['sink', 'tenant_id'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.tenant_id).toBe(t.deps.tenantId);
    expect(row.sink).not.toContain('stream-secret-0123456789');
    const stored = JSON.parse(row.sink) as { httpAuthorization: string; httpEndpoint: string };
    expect(stored.httpAuthorization).toMatch(/^v1\./);
    expect(stored.httpEndpoint).toBe(SINK.httpEndpoint);
    // Changing another sink field keeps the secret (sealed anew) and returns it.
    const patched = await call('PATCH', `/log-streams/${id}`, { sink: { httpContentType: 'text/plain' } });
    expect(patched.json<{ sink: unknown }>().sink).toEqual({ ...SINK, httpContentType: 'text/plain' });
    await call('DELETE', `/log-streams/${id}`);
  });

  it('lets a suspended stream be resumed with status active', async () => {
    const { id } = (
      await create({ type: 'http', sink: { httpEndpoint: 'https://logs.example.com/s' } })
    ).json<{
      id: string;
    }>();
    await t.deps.storage.db
      .updateTable('log_streams')
      .set({ status: 'suspended' })
      .where('id', '=', id)
      .execute();
    expect((await call('GET', `/log-streams/${id}`)).json<{ status: string }>().status).toBe('suspended');
    const res = await call('PATCH', `/log-streams/${id}`, { status: 'active' });
    expect(res.json<{ status: string }>().status).toBe('active');
    expect((await call('PATCH', `/log-streams/${id}`, { status: 'suspended' })).statusCode).toBe(400);
    await call('DELETE', `/log-streams/${id}`);
  });

  it('refuses Auth0’s other stream types, saying Latchkey does not deliver to them', async () => {
    for (const type of ['eventbridge', 'eventgrid', 'datadog', 'splunk', 'sumo', 'segment', 'mixpanel']) {
      const res = await create({ name: 'x', type, sink: { datadogApiKey: 'k', datadogRegion: 'us' } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(
        invalidBody(
          `Payload validation error: Latchkey delivers log streams only to HTTP endpoints (type "http"); it does not deliver to ${type}.`,
        ),
      );
    }
    expect((await create({ type: 'carrier-pigeon', sink: SINK })).json()).toEqual(
      invalidBody("Payload validation error: 'must be equal to constant' on property type."),
    );
  });

  it.each([
    [
      'a format Auth0 does not have',
      { type: 'http', sink: { httpEndpoint: 'https://a.example.com/', httpContentFormat: 'XML' } },
      "Payload validation error: 'must be equal to one of the allowed values' on property sink.httpContentFormat.",
    ],
    [
      'plain http to a remote host',
      { type: 'http', sink: { httpEndpoint: 'http://logs.example.com/in' } },
      'Payload validation error: httpEndpoint must be an https URL (plain http is allowed only to localhost, 127.0.0.1 and ::1).',
    ],
    [
      'a relative endpoint',
      { type: 'http', sink: { httpEndpoint: '/logs' } },
      'Payload validation error: httpEndpoint must be an absolute URL.',
    ],
    [
      'credentials in the endpoint',
      { type: 'http', sink: { httpEndpoint: 'https://user:pass@logs.example.com/' } },
      'Payload validation error: httpEndpoint must not contain credentials.',
    ],
    [
      'an unknown filter category',
      {
        type: 'http',
        sink: { httpEndpoint: 'https://a.example.com/' },
        filters: [{ type: 'category', name: 'auth.everything' }],
      },
      "Payload validation error: 'must be equal to one of the allowed values' on property filters.0.name.",
    ],
    [
      'an unknown field',
      { type: 'http', sink: { httpEndpoint: 'https://a.example.com/' }, color: 'red' },
      "Payload validation error: 'Additional properties not allowed: color'.",
    ],
    [
      'an unknown sink field',
      { type: 'http', sink: { httpEndpoint: 'https://a.example.com/', httpMethod: 'PUT' } },
      "Payload validation error: 'Additional properties not allowed: httpMethod' on property sink.",
    ],
    [
      'a header name with a space',
      {
        type: 'http',
        sink: { httpEndpoint: 'https://a.example.com/', httpCustomHeaders: [{ header: 'X A', value: 'v' }] },
      },
      "Payload validation error: 'must match pattern \"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$\"' on property sink.httpCustomHeaders.0.header.",
    ],
    [
      'a header value with a line break',
      {
        type: 'http',
        sink: { httpEndpoint: 'https://a.example.com/', httpAuthorization: 'Bearer x\r\nX-Evil: 1' },
      },
      expect.stringMatching(
        /^Payload validation error: 'must match pattern .* on property sink\.httpAuthorization\.$/,
      ),
    ],
    [
      'pii_config, which Latchkey would not apply',
      {
        type: 'http',
        sink: { httpEndpoint: 'https://a.example.com/' },
        pii_config: { log_fields: ['email'], method: 'mask' },
      },
      'Payload validation error: Latchkey does not obfuscate PII in log streams; pii_config is not supported.',
    ],
    [
      'startFrom, which Latchkey cannot replay',
      { type: 'http', sink: { httpEndpoint: 'https://a.example.com/' }, startFrom: '2030-01-01T00:00:00Z' },
      'Payload validation error: Latchkey streams events recorded after the stream is created; startFrom is not supported.',
    ],
  ])('refuses %s with 400 invalid_body', async (_name, body, message) => {
    const res = await create(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(invalidBody(message as string));
    expect((await call('GET', '/log-streams')).json()).toEqual([]);
  });

  it('accepts plain http only to loopback hosts', async () => {
    for (const httpEndpoint of ['http://127.0.0.1:9/in', 'http://localhost:9/in', 'http://[::1]:9/in']) {
      const res = await create({ type: 'http', sink: { httpEndpoint } });
      expect(res.statusCode).toBe(201);
      await call('DELETE', `/log-streams/${res.json<{ id: string }>().id}`);
    }
  });

  it('refuses a PATCH that would make the endpoint invalid, or adds unknown fields, and keeps the stream', async () => {
    const created = await create({ type: 'http', sink: { httpEndpoint: 'https://logs.example.com/p' } });
    const { id } = created.json<{ id: string }>();
    const bad = await call('PATCH', `/log-streams/${id}`, {
      sink: { httpEndpoint: 'http://logs.example.com/' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ errorCode: string }>().errorCode).toBe('invalid_body');
    const unknown = await call('PATCH', `/log-streams/${id}`, { type: 'datadog' });
    expect(unknown.json()).toEqual(
      invalidBody("Payload validation error: 'Additional properties not allowed: type'."),
    );
    expect((await call('GET', `/log-streams/${id}`)).json()).toEqual(created.json());
    await call('DELETE', `/log-streams/${id}`);
  });

  it('answers 404 inexistent_log_stream for an unknown id', async () => {
    const notFound = {
      statusCode: 404,
      error: 'Not Found',
      message: 'The log stream does not exist.',
      errorCode: 'inexistent_log_stream',
    };
    expect((await call('GET', '/log-streams/lst_missing')).json()).toEqual(notFound);
    const patch = await call('PATCH', '/log-streams/lst_missing', { name: 'x' });
    expect(patch.statusCode).toBe(404);
    expect(patch.json()).toEqual(notFound);
    const del = await call('DELETE', '/log-streams/lst_missing');
    expect(del.statusCode).toBe(404);
    expect(del.json()).toEqual(notFound);
  });

  it.each([
    ['GET', '/log-streams', undefined, 'read:log_streams'],
    [
      'POST',
      '/log-streams',
      { type: 'http', sink: { httpEndpoint: 'https://a.example.com/' } },
      'create:log_streams',
    ],
    ['GET', '/log-streams/lst_x', undefined, 'read:log_streams'],
    ['PATCH', '/log-streams/lst_x', { name: 'x' }, 'update:log_streams'],
    ['DELETE', '/log-streams/lst_x', undefined, 'delete:log_streams'],
  ] as const)('%s %s answers 403 without %s', async (method, url, body, scope) => {
    const others = [
      'read:log_streams',
      'create:log_streams',
      'update:log_streams',
      'delete:log_streams',
    ].filter((s) => s !== scope);
    const weak = await t.managementTokenWith([...others, 'read:clients']);
    const res = await api(t.app, { method, url: `/api/v2${url}`, token: weak, ...(body ? { body } : {}) });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: `Insufficient scope, expected any of: ${scope}`,
      errorCode: 'insufficient_scope',
    });
    const allowed = await t.managementTokenWith([scope]);
    const ok = await api(t.app, { method, url: `/api/v2${url}`, token: allowed, ...(body ? { body } : {}) });
    expect(ok.statusCode).not.toBe(403);
    if (method === 'POST') await call('DELETE', `/log-streams/${ok.json<{ id: string }>().id}`);
  });
});
