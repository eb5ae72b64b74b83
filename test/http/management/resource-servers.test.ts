import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form, jwtHeader, jwtPayload } from '../../helpers/http.js';
import { MY_ACCOUNT_SCOPES } from '../../../src/management/resource-servers/my-account.js';

let counter = 0;
const uniqueIdentifier = () => `https://rs-${Date.now()}-${counter++}.example.com/`;

describe.each(testBackends())('/api/v2/resource-servers on $name', (backend) => {
  let t: TestApp;
  let token: string;
  let make: Factories;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
    make = createFactories(t.deps);
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (body: Record<string, unknown>) =>
    api(t.app, { method: 'POST', url: '/api/v2/resource-servers', token, body });

  async function clientCredentials(clientId: string, secret: string, audience: string, scope?: string) {
    return t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
        audience,
        ...(scope ? { scope } : {}),
      },
    });
  }

  it('creates an API with Auth0 defaults and returns 201', async () => {
    const identifier = uniqueIdentifier();
    const res = await create({
      name: 'Orders',
      identifier,
      scopes: [{ value: 'read:orders', description: 'Read' }],
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      name: 'Orders',
      identifier,
      is_system: false,
      scopes: [{ value: 'read:orders', description: 'Read' }],
      signing_alg: 'RS256',
      allow_offline_access: false,
      skip_consent_for_verifiable_first_party_clients: false,
      token_lifetime: 86400,
      token_lifetime_for_web: 7200,
      enforce_policies: false,
      token_dialect: 'access_token',
      subject_type_authorization: {
        user: { policy: 'allow_all' },
        client: { policy: 'require_client_grant' },
      },
    });
  });

  it('stores unicode names exactly as sent and defaults the name to the identifier', async () => {
    const identifier = uniqueIdentifier();
    const named = await create({ name: 'Zahlungs-API ✓ 日本語 🚀', identifier });
    expect(named.json<{ name: string }>().name).toBe('Zahlungs-API ✓ 日本語 🚀');
    const got = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers/${named.json<{ id: string }>().id}`,
      token,
    });
    expect(got.json<{ name: string }>().name).toBe('Zahlungs-API ✓ 日本語 🚀');
    // Control characters are kept exactly, never mangled.
    const control = await create({ name: 'tab\there\u0007bell\u001bescape', identifier: uniqueIdentifier() });
    expect(control.statusCode).toBe(201);
    const controlId = control.json<{ id: string }>().id;
    const reread = await api(t.app, { method: 'GET', url: `/api/v2/resource-servers/${controlId}`, token });
    expect(reread.json<{ name: string }>().name).toBe('tab\there\u0007bell\u001bescape');
    // NUL is the one character PostgreSQL cannot store: refused on every engine, never a 500.
    const nul = await create({ name: 'a\u0000b', identifier: uniqueIdentifier() });
    expect(nul.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Payload validation error: NUL characters and lone surrogates are not allowed.',
      errorCode: 'invalid_body',
    });
    const surrogate = await create({ name: 'a\ud800b', identifier: uniqueIdentifier() });
    expect(surrogate.json()).toMatchObject({ statusCode: 400, errorCode: 'invalid_body' });
    const nulPath = await api(t.app, { method: 'GET', url: '/api/v2/resource-servers/a%00b', token });
    expect(nulPath.json()).toMatchObject({ statusCode: 400, errorCode: 'invalid_uri' });
    const nulLogin = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'password', username: 'a\u0000', password: 'x', client_id: 'c' },
    });
    expect(nulLogin.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Payload validation error: NUL characters and lone surrogates are not allowed.',
    });
    const unnamed = await create({ identifier: uniqueIdentifier() });
    expect(unnamed.json<{ name: string; identifier: string }>().name).toBe(
      unnamed.json<{ identifier: string }>().identifier,
    );
  });

  it('answers 409 for a duplicate identifier (including the Management API)', async () => {
    const identifier = uniqueIdentifier();
    expect((await create({ identifier })).statusCode).toBe(201);
    for (const dup of [identifier, MGMT_AUDIENCE]) {
      const res = await create({ identifier: dup });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: 'A resource server with the same identifier already exists.',
        errorCode: 'resource_server_conflict',
      });
    }
  });

  it.each([
    [
      { identifier: 'x', is_system: true },
      "Payload validation error: 'Additional properties not allowed: is_system'.",
    ],
    [{ identifier: 'x', id: 'abc' }, "Payload validation error: 'Additional properties not allowed: id'."],
    [
      { identifier: 'x', client_id: 'abc' },
      "Payload validation error: 'Additional properties not allowed: client_id'.",
    ],
    [{ identifier: 'x', bogus: 1 }, "Payload validation error: 'Additional properties not allowed: bogus'."],
    [{ name: 'no identifier' }, "Payload validation error: 'Missing required property: identifier'."],
    [{ identifier: 12 }, "Payload validation error: 'must be string' on property identifier."],
    [{ identifier: ' \t ' }, expect.stringContaining('on property identifier')],
    [{ identifier: 'x', name: '<script>' }, expect.stringContaining('on property name')],
    [{ identifier: 'x', token_lifetime: -1 }, expect.stringContaining('on property token_lifetime')],
    [
      { identifier: 'x', token_lifetime: 100, token_lifetime_for_web: 200 },
      'Payload validation error: token_lifetime_for_web must not exceed token_lifetime.',
    ],
    [{ identifier: 'x', signing_alg: 'none' }, expect.stringContaining('on property signing_alg')],
    [
      { identifier: 'x', scopes: [{ value: 'a' }, { value: 'a' }] },
      "Payload validation error: 'scope a is defined more than once'.",
    ],
    [
      { identifier: 'x', subject_type_authorization: { client: { policy: 'allow_all' } } },
      expect.stringContaining('subject_type_authorization'),
    ],
  ])('answers 400 invalid_body for %j', async (body, message) => {
    const res = await create(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ statusCode: 400, error: 'Bad Request', message, errorCode: 'invalid_body' });
  });

  it('answers 413 in Auth0 shape for an oversized body', async () => {
    const res = await create({ identifier: uniqueIdentifier(), name: 'x'.repeat(2 * 1024 * 1024) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Payload too large',
      errorCode: 'payload_too_large',
    });
  });

  it('answers 400 for malformed JSON, never 500', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v2/resource-servers',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: '{"identifier":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, errorCode: 'invalid_body' });
  });

  it('gets by id and by URL-encoded identifier, and 404s otherwise', async () => {
    const identifier = uniqueIdentifier();
    const created = (await create({ identifier })).json<{ id: string }>();
    const byId = await api(t.app, { method: 'GET', url: `/api/v2/resource-servers/${created.id}`, token });
    const byIdentifier = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers/${encodeURIComponent(identifier)}`,
      token,
    });
    expect(byId.statusCode).toBe(200);
    expect(byIdentifier.json()).toEqual(byId.json());
    const missing = await api(t.app, { method: 'GET', url: '/api/v2/resource-servers/nope', token });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Resource server not found.',
      errorCode: 'inexistent_resource_server',
    });
  });

  it('applies fields/include_fields', async () => {
    const created = (await create({ identifier: uniqueIdentifier(), name: 'F' })).json<{
      id: string;
      identifier: string;
    }>();
    const only = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers/${created.id}?fields=id,name`,
      token,
    });
    expect(only.json()).toEqual({ id: created.id, name: 'F' });
    const without = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers/${created.id}?fields=scopes,subject_type_authorization&include_fields=false`,
      token,
    });
    expect(Object.keys(without.json<object>())).not.toContain('scopes');
    expect(without.json<{ identifier: string }>().identifier).toBe(created.identifier);
  });

  it('lists as a bare array, with totals, by page and by identifiers', async () => {
    const a = uniqueIdentifier();
    const b = uniqueIdentifier();
    await create({ identifier: a });
    await create({ identifier: b });
    const all = await api(t.app, { method: 'GET', url: '/api/v2/resource-servers', token });
    expect(Array.isArray(all.json())).toBe(true);
    const totals = await api(t.app, {
      method: 'GET',
      url: '/api/v2/resource-servers?page=0&per_page=2&include_totals=true',
      token,
    });
    const body = totals.json<{ start: number; limit: number; total: number; resource_servers: unknown[] }>();
    expect(body).toMatchObject({ start: 0, limit: 2 });
    expect(body.resource_servers).toHaveLength(2);
    expect(body.total).toBe(all.json<unknown[]>().length);
    const one = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers?identifiers=${encodeURIComponent(a)}`,
      token,
    });
    expect(one.json<{ identifier: string }[]>().map((r) => r.identifier)).toEqual([a]);
    const two = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers?identifiers=${encodeURIComponent(a)}&identifiers=${encodeURIComponent(b)}`,
      token,
    });
    expect(two.json<unknown[]>()).toHaveLength(2);
  });

  it.each([
    ['per_page=1000', 'per_page'],
    ['page=-1', 'page'],
    ['bogus=1', 'bogus'],
    ['include_totals=maybe', 'include_totals'],
  ])('answers 400 invalid_query_string for ?%s', async (query, field) => {
    const res = await api(t.app, { method: 'GET', url: `/api/v2/resource-servers?${query}`, token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.stringContaining(field),
      errorCode: 'invalid_query_string',
    });
  });

  it('patches fields and returns the whole API; identifier is not patchable', async () => {
    const created = (await create({ identifier: uniqueIdentifier(), scopes: [{ value: 'a' }] })).json<{
      id: string;
    }>();
    const res = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${created.id}`,
      token,
      body: {
        name: 'Renamed',
        scopes: [{ value: 'a' }, { value: 'b' }],
        token_lifetime: 600,
        token_dialect: 'access_token_authz',
        enforce_policies: true,
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      name: 'Renamed',
      scopes: [{ value: 'a' }, { value: 'b' }],
      token_lifetime: 600,
      token_lifetime_for_web: 600,
      token_dialect: 'access_token_authz',
      enforce_policies: true,
    });
    const bad = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${created.id}`,
      token,
      body: { identifier: 'https://other/' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      errorCode: 'invalid_body',
      message: "Payload validation error: 'Additional properties not allowed: identifier'.",
    });
  });

  it('lets the Management API change only the fields a system API allows, and never be deleted', async () => {
    const url = `/api/v2/resource-servers/${encodeURIComponent(MGMT_AUDIENCE)}`;
    const got = await api(t.app, { method: 'GET', url, token });
    expect(got.json()).toMatchObject({
      name: 'Auth0 Management API',
      is_system: true,
      identifier: MGMT_AUDIENCE,
    });
    const ok = await api(t.app, { method: 'PATCH', url, token, body: { token_lifetime: 3600 } });
    expect(ok.statusCode).toBe(200);
    const refused = await api(t.app, { method: 'PATCH', url, token, body: { name: 'Mine now', scopes: [] } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({
      message: "Payload validation error: 'Additional properties not allowed: name, scopes'.",
    });
    const del = await api(t.app, { method: 'DELETE', url, token });
    expect(del.statusCode).toBe(400);
    await api(t.app, { method: 'PATCH', url, token, body: { token_lifetime: 86400 } });
  });

  it('activates the My Account API as a least-privilege system API (seed 000)', async () => {
    const res = await create({ name: 'whatever', identifier: `${TEST_ISSUER}me/` });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'Auth0 My Account API',
      identifier: `${TEST_ISSUER}me/`,
      is_system: true,
      subject_type_authorization: {
        user: { policy: 'require_client_grant' },
        client: { policy: 'deny_all' },
      },
    });
    expect(res.json<{ scopes: { value: string }[] }>().scopes).toEqual(
      MY_ACCOUNT_SCOPES.map((value) => ({ value })),
    );
    const id = res.json<{ id: string }>().id;
    const clientPolicy = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${id}`,
      token,
      body: { subject_type_authorization: { client: { policy: 'require_client_grant' } } },
    });
    expect(clientPolicy.statusCode).toBe(400);
    expect(clientPolicy.json()).toMatchObject({ errorCode: 'invalid_body' });
    const renamed = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${id}`,
      token,
      body: { name: 'Mine', token_lifetime: 600 },
    });
    expect(renamed.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: "Payload validation error: 'Additional properties not allowed: name'.",
      errorCode: 'invalid_body',
    });
    const denyAgain = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${id}`,
      token,
      body: { subject_type_authorization: { client: { policy: 'deny_all' } }, token_lifetime: 600 },
    });
    expect(denyAgain.statusCode).toBe(200);
    const userPolicy = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${id}`,
      token,
      body: { subject_type_authorization: { user: { policy: 'allow_all' } } },
    });
    expect(userPolicy.json()).toMatchObject({
      subject_type_authorization: { user: { policy: 'allow_all' }, client: { policy: 'deny_all' } },
    });
  });

  it('deletes an API with its client grants; the token endpoint forgets it at once', async () => {
    const identifier = uniqueIdentifier();
    const created = (await create({ identifier, scopes: [{ value: 'a' }] })).json<{ id: string }>();
    const client = await make.client();
    await make.grant({ clientId: client.clientId, audience: identifier, scope: ['a'] });
    expect((await clientCredentials(client.clientId, client.clientSecret, identifier)).statusCode).toBe(200);
    const del = await api(t.app, { method: 'DELETE', url: `/api/v2/resource-servers/${created.id}`, token });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect(await t.deps.store.clientGrants.count({ audience: identifier })).toBe(0);
    const after = await clientCredentials(client.clientId, client.clientSecret, identifier);
    expect(after.statusCode).toBe(403);
    expect(after.json()).toEqual({
      error: 'access_denied',
      error_description: `Service not enabled within domain: ${identifier}`,
    });
    expect(
      (await api(t.app, { method: 'DELETE', url: `/api/v2/resource-servers/${created.id}`, token }))
        .statusCode,
    ).toBe(404);
  });

  it('deletes what was granted on the API; recreating the identifier brings none of it back', async () => {
    const identifier = uniqueIdentifier();
    const body = { identifier, scopes: [{ value: 'read:x' }], allow_offline_access: true };
    const rs = (await create(body)).json<{ id: string }>();
    const permission = {
      permissions: [{ resource_server_identifier: identifier, permission_name: 'read:x' }],
    };
    const role = (
      await api(t.app, { method: 'POST', url: '/api/v2/roles', token, body: { name: `role-${counter++}` } })
    ).json<{ id: string }>();
    await api(t.app, {
      method: 'POST',
      url: `/api/v2/roles/${role.id}/permissions`,
      token,
      body: permission,
    });
    const user = await make.user();
    const userUrl = `/api/v2/users/${encodeURIComponent(user.userId)}`;
    await api(t.app, { method: 'POST', url: `${userUrl}/permissions`, token, body: permission });
    const client = await make.client({ grantTypes: ['password', 'refresh_token'] });
    await make.enableConnection(client.clientId);
    const login = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        username: user.email ?? '',
        password: 'Pass-word-123',
        audience: identifier,
        scope: 'offline_access read:x',
        client_id: client.clientId,
        client_secret: client.clientSecret,
      }),
    });
    expect(login.statusCode).toBe(200);
    const refreshToken = login.json<{ refresh_token: string }>().refresh_token;

    expect(
      (await api(t.app, { method: 'DELETE', url: `/api/v2/resource-servers/${rs.id}`, token })).statusCode,
    ).toBe(204);
    expect((await create(body)).statusCode).toBe(201);

    const rolePermissions = await api(t.app, {
      method: 'GET',
      url: `/api/v2/roles/${role.id}/permissions`,
      token,
    });
    expect(rolePermissions.json()).toEqual([]);
    expect((await api(t.app, { method: 'GET', url: `${userUrl}/permissions`, token })).json()).toEqual([]);
    const grants = await api(t.app, {
      method: 'GET',
      url: `/api/v2/grants?user_id=${encodeURIComponent(user.userId)}`,
      token,
    });
    expect(grants.json()).toEqual([]);
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: client.clientId,
        client_secret: client.clientSecret,
      }),
    });
    expect(refresh.statusCode).toBe(403);
    expect(refresh.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Unknown or invalid refresh token.',
    });
  });

  it('applies the client policy: deny_all refuses even a client with a grant (seed 002)', async () => {
    const identifier = uniqueIdentifier();
    const created = (await create({ identifier, scopes: [{ value: 'a' }] })).json<{ id: string }>();
    const client = await make.client();
    await make.grant({ clientId: client.clientId, audience: identifier, scope: ['a'] });
    expect((await clientCredentials(client.clientId, client.clientSecret, identifier)).statusCode).toBe(200);
    await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${created.id}`,
      token,
      body: { subject_type_authorization: { client: { policy: 'deny_all' } } },
    });
    const denied = await clientCredentials(client.clientId, client.clientSecret, identifier);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toEqual({
      error: 'access_denied',
      error_description: `Client access to "${identifier}" is denied by the API's access policy.`,
    });
    const deniedForm = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        audience: identifier,
      }),
    });
    expect(deniedForm.statusCode).toBe(403);
    expect(deniedForm.json()).toEqual(denied.json());
  });

  it('shapes tokens by lifetime, dialect and signing algorithm', async () => {
    const identifier = uniqueIdentifier();
    const created = (await create({ identifier, scopes: [{ value: 'a' }], token_lifetime: 300 })).json<{
      id: string;
    }>();
    const client = await make.client();
    await make.grant({ clientId: client.clientId, audience: identifier, scope: ['a'] });
    const patch = (body: object) =>
      api(t.app, { method: 'PATCH', url: `/api/v2/resource-servers/${created.id}`, token, body });
    const issue = async () =>
      (await clientCredentials(client.clientId, client.clientSecret, identifier)).json<{
        access_token: string;
        expires_in: number;
      }>();

    const plain = await issue();
    expect(plain.expires_in).toBe(300);
    const claims = jwtPayload(plain.access_token);
    expect(Number(claims['exp']) - Number(claims['iat'])).toBe(300);

    await patch({ token_dialect: 'rfc9068_profile' });
    const rfc = (await issue()).access_token;
    expect(jwtHeader(rfc)['typ']).toBe('at+jwt');
    expect(jwtPayload(rfc)).toMatchObject({
      client_id: client.clientId,
      jti: expect.any(String),
      scope: 'a',
    });
    expect(jwtPayload(rfc)).not.toHaveProperty('azp');
    expect(jwtPayload(rfc)).not.toHaveProperty('gty');

    await patch({ token_dialect: 'access_token', signing_alg: 'PS256' });
    expect(jwtHeader((await issue()).access_token)['alg']).toBe('PS256');

    const hs = await patch({ signing_alg: 'HS256', signing_secret: 'a-shared-secret-of-32-characters!' });
    expect(hs.json()).toMatchObject({
      signing_alg: 'HS256',
      signing_secret: 'a-shared-secret-of-32-characters!',
    });
    const hsToken = (await issue()).access_token;
    const verified = await jwtVerify(hsToken, new TextEncoder().encode('a-shared-secret-of-32-characters!'), {
      issuer: TEST_ISSUER,
      audience: identifier,
    });
    expect(verified.protectedHeader.alg).toBe('HS256');
  });

  it('answers 401 without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v2/resource-servers' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Missing authentication',
      errorCode: 'invalid_token',
    });
  });

  it('answers the SDK v5/v6 default list query with the totals shape', async () => {
    const res = await api(t.app, {
      method: 'GET',
      url: '/api/v2/resource-servers?page=0&per_page=50&include_totals=true',
      token,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ start: number; limit: number; total: number; resource_servers: unknown[] }>();
    expect(body).toMatchObject({ start: 0, limit: 50, total: expect.any(Number) });
    expect(body.resource_servers).toContainEqual(
      expect.objectContaining({ identifier: MGMT_AUDIENCE, is_system: true }),
    );
  });

  it('refuses more than 10 identifiers', async () => {
    const query = Array.from({ length: 11 }, (_, i) => `identifiers=${encodeURIComponent(`https://x${i}/`)}`);
    const res = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers?${query.join('&')}`,
      token,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.stringContaining('identifiers'),
      errorCode: 'invalid_query_string',
    });
  });

  it('generates a signing secret for an HS256 API created without one', async () => {
    const res = await create({ identifier: uniqueIdentifier(), signing_alg: 'HS256' });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ signing_alg: string; signing_secret: string }>();
    expect(body.signing_alg).toBe('HS256');
    expect(body.signing_secret.length).toBeGreaterThanOrEqual(16);
    const short = await create({
      identifier: uniqueIdentifier(),
      signing_alg: 'HS256',
      signing_secret: 'short',
    });
    expect(short.json()).toMatchObject({ statusCode: 400, errorCode: 'invalid_body' });
    expect(short.json<{ message: string }>().message).toContain('signing_secret');
  });

  it('answers 404 for PATCH and DELETE of an unknown API', async () => {
    for (const method of ['PATCH', 'DELETE'] as const) {
      const res = await api(t.app, {
        method,
        url: `/api/v2/resource-servers/${encodeURIComponent('https://missing.example.com/')}`,
        token,
        ...(method === 'PATCH' ? { body: { name: 'x' } } : {}),
      });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'Resource server not found.',
        errorCode: 'inexistent_resource_server',
      });
    }
  });

  it('patches and deletes by URL-encoded identifier', async () => {
    const identifier = uniqueIdentifier();
    await create({ identifier });
    const url = `/api/v2/resource-servers/${encodeURIComponent(identifier)}`;
    const patched = await api(t.app, { method: 'PATCH', url, token, body: { allow_offline_access: true } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ identifier, allow_offline_access: true });
    expect((await api(t.app, { method: 'DELETE', url, token })).statusCode).toBe(204);
    expect((await api(t.app, { method: 'GET', url, token })).statusCode).toBe(404);
  });

  it('stores and echoes the Auth0 fields it does not act on', async () => {
    const res = await create({
      identifier: uniqueIdentifier(),
      allow_online_access: true,
      consent_policy: 'transactional-authorization-with-mfa',
      authorization_details: [{ type: 'payment_initiation' }],
      proof_of_possession: { mechanism: 'dpop', required: true },
      authorization_policy: null,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      allow_online_access: true,
      consent_policy: 'transactional-authorization-with-mfa',
      authorization_details: [{ type: 'payment_initiation' }],
      proof_of_possession: { mechanism: 'dpop', required: true },
      authorization_policy: null,
    });
    const cleared = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${res.json<{ id: string }>().id}`,
      token,
      body: { proof_of_possession: null },
    });
    expect(cleared.json()).toMatchObject({ proof_of_possession: null, allow_online_access: true });
  });

  it('requires the matching scope for each operation', async () => {
    const readOnly = await t.managementTokenWith(['read:resource_servers']);
    const res = await api(t.app, {
      method: 'POST',
      url: '/api/v2/resource-servers',
      token: readOnly,
      body: { identifier: uniqueIdentifier() },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Insufficient scope, expected any of: create:resource_servers',
      errorCode: 'insufficient_scope',
    });
    for (const [method, scope] of [
      ['PATCH', 'update:resource_servers'],
      ['DELETE', 'delete:resource_servers'],
    ] as const) {
      const r = await api(t.app, {
        method,
        url: '/api/v2/resource-servers/x',
        token: readOnly,
        ...(method === 'PATCH' ? { body: {} } : {}),
      });
      expect(r.json()).toMatchObject({ message: `Insufficient scope, expected any of: ${scope}` });
    }
  });
});
