import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

const AUDIENCE = 'https://dups.example.com/';
const notUnique = (property: string, pair = '0 and 1') => ({
  statusCode: 400,
  error: 'Bad Request',
  message: `Payload validation error: 'Array items are not unique (indices ${pair})' on property ${property}.`,
  errorCode: 'invalid_body',
});

describe.each(testBackends())('duplicate scopes and grant types are refused on $name', (backend) => {
  let t: TestApp;
  let token: string;
  let clientId: string;
  let grantId: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
    const rs = await call('POST', '/api/v2/resource-servers', {
      identifier: AUDIENCE,
      name: 'Dups',
      scopes: [{ value: 'read:x' }, { value: 'write:x' }],
    });
    expect(rs.statusCode).toBe(201);
    clientId = (await call('POST', '/api/v2/clients', { name: 'dups' })).json<{ client_id: string }>()
      .client_id;
    const grant = await call('POST', '/api/v2/client-grants', {
      client_id: clientId,
      audience: AUDIENCE,
      scope: ['read:x'],
    });
    grantId = grant.json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
  });
  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) =>
    api(t.app, { method, url, token, ...(body !== undefined ? { body } : {}) });

  it('refuses a client grant scope or authorization_details_types with a repeated value, on create and update', async () => {
    const other = (await call('POST', '/api/v2/clients', { name: 'other' })).json<{ client_id: string }>();
    const created = await call('POST', '/api/v2/client-grants', {
      client_id: other.client_id,
      audience: AUDIENCE,
      scope: ['read:x', 'write:x', 'read:x'],
    });
    expect(created.statusCode).toBe(400);
    expect(created.json()).toEqual(notUnique('scope', '0 and 2'));
    const grants = await call('GET', `/api/v2/client-grants?client_id=${other.client_id}`);
    expect(grants.json()).toEqual([]);

    const patched = await call('PATCH', `/api/v2/client-grants/${grantId}`, {
      scope: ['write:x', 'write:x'],
    });
    expect(patched.json()).toEqual(notUnique('scope'));
    const types = await call('PATCH', `/api/v2/client-grants/${grantId}`, {
      authorization_details_types: ['payment', 'payment'],
    });
    expect(types.json()).toEqual(notUnique('authorization_details_types'));
    const kept = await call('GET', `/api/v2/client-grants?client_id=${clientId}`);
    expect(kept.json()).toEqual([expect.objectContaining({ id: grantId, scope: ['read:x'] })]);
  });

  it('refuses a client with a repeated grant type or refresh-token policy scope, on create and update', async () => {
    const url = `/api/v2/clients/${clientId}?fields=grant_types,refresh_token`;
    const before = (await call('GET', url)).json<object>();
    const grantTypes = ['client_credentials', 'password', 'client_credentials'];
    const created = await call('POST', '/api/v2/clients', { name: 'twice', grant_types: grantTypes });
    expect(created.statusCode).toBe(400);
    expect(created.json()).toEqual(notUnique('grant_types', '0 and 2'));
    const patched = await call('PATCH', `/api/v2/clients/${clientId}`, { grant_types: grantTypes });
    expect(patched.json()).toEqual(notUnique('grant_types', '0 and 2'));
    const policy = await call('PATCH', `/api/v2/clients/${clientId}`, {
      refresh_token: {
        rotation_type: 'rotating',
        expiration_type: 'expiring',
        policies: [{ audience: AUDIENCE, scope: ['read:x', 'read:x'] }],
      },
    });
    expect(policy.json()).toEqual(notUnique('refresh_token.policies.0.scope'));
    expect((await call('GET', url)).json()).toEqual(before);
  });

  it('refuses a resource server scope defined twice, on create and update', async () => {
    const twice = { scopes: [{ value: 'a' }, { value: 'a', description: 'again' }] };
    const created = await call('POST', '/api/v2/resource-servers', {
      identifier: 'https://twice/',
      ...twice,
    });
    const patched = await call('PATCH', `/api/v2/resource-servers/${encodeURIComponent(AUDIENCE)}`, twice);
    for (const res of [created, patched]) {
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: "Payload validation error: 'scope a is defined more than once'.",
        errorCode: 'invalid_body',
      });
    }
  });
});
