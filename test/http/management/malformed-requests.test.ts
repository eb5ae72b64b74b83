import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, type TestApp } from '../../helpers/build-test-app.js';
import { api, type ApiCall } from '../../helpers/http.js';

/** JSON text of `{"a":{"a":…1…}}` with `levels` nested objects. */
const nested = (levels: number, leaf = '1') => '{"a":'.repeat(levels) + leaf + '}'.repeat(levels);

const PERMISSIONS = { permissions: [{ resource_server_identifier: 'https://x', permission_name: 'read' }] };

describe.each(testBackends())('Management API malformed requests on $name', (backend) => {
  let t: TestApp;
  let token: string;
  let clientId: string;
  let grantId: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
    clientId = (
      await api(t.app, { method: 'POST', url: '/api/v2/clients', token, body: { name: 'query' } })
    ).json<{ client_id: string }>().client_id;
    grantId = (
      await api(t.app, {
        method: 'POST',
        url: '/api/v2/client-grants',
        token,
        body: { client_id: clientId, audience: MGMT_AUDIENCE, scope: [] },
      })
    ).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await t.close();
  });

  const rawJson = (method: 'POST' | 'PATCH', url: string, payload: string) =>
    t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload,
    });

  // Every route without a querystring schema of its own; bodies are valid so only the query is wrong.
  it('refuses an unknown query parameter with 400 invalid_query_string on every route that takes none', async () => {
    const routes: Omit<ApiCall, 'token'>[] = [
      { method: 'GET', url: '/api/v2/keys/signing' },
      { method: 'GET', url: '/api/v2/keys/signing/kid' },
      { method: 'POST', url: '/api/v2/keys/signing/rotate' },
      { method: 'PUT', url: '/api/v2/keys/signing/kid/revoke' },
      { method: 'GET', url: `/api/v2/client-grants/${grantId}` },
      { method: 'POST', url: '/api/v2/client-grants', body: { client_id: clientId, audience: 'https://x' } },
      { method: 'PATCH', url: `/api/v2/client-grants/${grantId}`, body: { scope: [] } },
      { method: 'DELETE', url: `/api/v2/client-grants/${grantId}` },
      { method: 'POST', url: '/api/v2/clients', body: { name: 'q' } },
      { method: 'PATCH', url: `/api/v2/clients/${clientId}`, body: { name: 'q' } },
      { method: 'DELETE', url: `/api/v2/clients/${clientId}` },
      { method: 'POST', url: `/api/v2/clients/${clientId}/rotate-secret` },
      { method: 'GET', url: `/api/v2/clients/${clientId}/credentials` },
      {
        method: 'POST',
        url: `/api/v2/clients/${clientId}/credentials`,
        body: { credential_type: 'public_key', pem: 'x' },
      },
      { method: 'GET', url: `/api/v2/clients/${clientId}/credentials/cred_x` },
      { method: 'PATCH', url: `/api/v2/clients/${clientId}/credentials/cred_x`, body: { expires_at: null } },
      { method: 'DELETE', url: `/api/v2/clients/${clientId}/credentials/cred_x` },
      { method: 'POST', url: '/api/v2/resource-servers', body: { identifier: 'https://q.example' } },
      { method: 'PATCH', url: '/api/v2/resource-servers/rs', body: { name: 'q' } },
      { method: 'DELETE', url: '/api/v2/resource-servers/rs' },
      { method: 'PATCH', url: '/api/v2/tenants/settings', body: { friendly_name: 'q' } },
      { method: 'POST', url: '/api/v2/connections', body: { name: 'q', strategy: 'auth0' } },
      { method: 'GET', url: '/api/v2/connections/con_x' },
      { method: 'PATCH', url: '/api/v2/connections/con_x', body: {} },
      { method: 'DELETE', url: '/api/v2/connections/con_x' },
      {
        method: 'POST',
        url: '/api/v2/users',
        body: { connection: 'Username-Password-Authentication', email: 'q@example.com' },
      },
      { method: 'PATCH', url: '/api/v2/users/auth0%7Cx', body: {} },
      { method: 'DELETE', url: '/api/v2/users/auth0%7Cx' },
      { method: 'POST', url: '/api/v2/roles', body: { name: 'q' } },
      { method: 'GET', url: '/api/v2/roles/rol_x' },
      { method: 'PATCH', url: '/api/v2/roles/rol_x', body: { name: 'q' } },
      { method: 'DELETE', url: '/api/v2/roles/rol_x' },
      { method: 'POST', url: '/api/v2/roles/rol_x/permissions', body: PERMISSIONS },
      { method: 'DELETE', url: '/api/v2/roles/rol_x/permissions', body: PERMISSIONS },
      { method: 'POST', url: '/api/v2/roles/rol_x/users', body: { users: ['auth0|x'] } },
      { method: 'POST', url: '/api/v2/users/auth0%7Cx/roles', body: { roles: ['rol_x'] } },
      { method: 'DELETE', url: '/api/v2/users/auth0%7Cx/roles', body: { roles: ['rol_x'] } },
      { method: 'POST', url: '/api/v2/users/auth0%7Cx/permissions', body: PERMISSIONS },
      { method: 'DELETE', url: '/api/v2/users/auth0%7Cx/permissions', body: PERMISSIONS },
      { method: 'DELETE', url: '/api/v2/grants/x' },
      { method: 'GET', url: '/api/v2/user-blocks/auth0%7Cx' },
      { method: 'DELETE', url: '/api/v2/user-blocks/auth0%7Cx' },
    ];
    for (const route of routes) {
      const res = await api(t.app, { ...route, url: `${route.url}?x=1`, token });
      expect({ route: `${route.method} ${route.url}`, status: res.statusCode, body: res.json() }).toEqual({
        route: `${route.method} ${route.url}`,
        status: 400,
        body: {
          statusCode: 400,
          error: 'Bad Request',
          message: "Query validation error: 'Additional properties not allowed: x'.",
          errorCode: 'invalid_query_string',
        },
      });
    }
  });

  // JSON.stringify overflowed the stack when such a body was stored, and answered 500.
  it.each([
    [
      'POST',
      '/api/v2/resource-servers',
      `{"identifier":"https://deep.example","token_encryption":${nested(4500)}}`,
    ],
    [
      'POST',
      '/api/v2/resource-servers',
      `{"identifier":"https://deep.example","authorization_details":[${nested(4500)}]}`,
    ],
    ['POST', '/api/v2/clients', `{"name":"deep","mobile":${nested(5000)}}`],
    ['POST', '/api/v2/clients', `{"name":"deep","jwt_configuration":{"scopes":${nested(5000)}}}`],
    ['POST', '/api/v2/clients', `{"name":"deep","mobile":${nested(32)}}`],
    // NUL used to slip through below depth 64, where the guard stopped looking.
    ['POST', '/api/v2/clients', `{"name":"deep","mobile":${nested(70, '"\\u0000"')}}`],
  ] as const)(
    'refuses %s %s nested deeper than 32 levels with 400 invalid_body',
    async (method, url, body) => {
      const res = await rawJson(method, url, body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'Payload validation error: objects and arrays may not be nested more than 32 levels deep.',
        errorCode: 'invalid_body',
      });
    },
  );

  it('accepts free-form objects nested 32 levels deep, the body included', async () => {
    const res = await rawJson('POST', '/api/v2/clients', `{"name":"deep","mobile":${nested(31)}}`);
    expect(res.statusCode).toBe(201);
  });

  it.each(['%ZZ', '%', '%C0%80', '%ED%A0%80'])(
    'answers a malformed path (%s) with 400 invalid_uri in Management shape',
    async (segment) => {
      const res = await api(t.app, { method: 'GET', url: `/api/v2/resource-servers/${segment}`, token });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'Path validation error: the URL is not valid percent-encoded UTF-8.',
        errorCode: 'invalid_uri',
      });
    },
  );

  it('lets ids longer than 100 characters reach the route, which answers 400 or 404', async () => {
    const kid = await api(t.app, { method: 'GET', url: `/api/v2/keys/signing/${'k'.repeat(101)}`, token });
    expect(kid.statusCode).toBe(400);
    expect(kid.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: "Path validation error: 'must NOT have more than 100 characters' on property kid.",
      errorCode: 'invalid_uri',
    });
    const identifier = encodeURIComponent(`https://api.example.com/${'p'.repeat(500)}`);
    const rs = await api(t.app, { method: 'GET', url: `/api/v2/resource-servers/${identifier}`, token });
    expect(rs.statusCode).toBe(404);
    expect(rs.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Resource server not found.',
      errorCode: 'inexistent_resource_server',
    });
  });

  it('answers a path segment beyond any id length with 414 invalid_uri in Management shape', async () => {
    const res = await api(t.app, { method: 'GET', url: `/api/v2/keys/signing/${'k'.repeat(5000)}`, token });
    expect(res.statusCode).toBe(414);
    expect(res.json()).toEqual({
      statusCode: 414,
      error: 'URI Too Long',
      message: 'Path validation error: a path segment is too long.',
      errorCode: 'invalid_uri',
    });
  });

  it.each([
    ['GET', '/api/v2/nothing-here'],
    ['PUT', '/api/v2/clients'],
    ['GET', '/api/v2'],
  ] as const)('answers %s %s with 404 not_found in Management shape', async (method, url) => {
    const res = await api(t.app, { method, url, token });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Not Found',
      errorCode: 'not_found',
    });
  });
});
