import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, jwtPayload } from '../../helpers/http.js';

describe.each(testBackends())('/api/v2/client-grants on $name', (backend) => {
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

  const post = (body: Record<string, unknown>) =>
    api(t.app, { method: 'POST', url: '/api/v2/client-grants', token, body });
  const cc = (clientId: string, secret: string, audience: string, scope?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
        audience,
        ...(scope !== undefined ? { scope } : {}),
      },
    });
  const abcApi = () => make.api({ scopes: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });

  it('creates a grant (201) in Auth0 shape and lists it', async () => {
    const rs = await abcApi();
    const client = await make.client();
    const res = await post({ client_id: client.clientId, audience: rs.identifier, scope: ['a', 'b'] });
    expect(res.statusCode).toBe(201);
    const grant = res.json<{ id: string }>();
    expect(grant).toEqual({
      id: expect.stringMatching(/^cgr_/),
      client_id: client.clientId,
      audience: rs.identifier,
      scope: ['a', 'b'],
      is_system: false,
      subject_type: 'client',
      authorization_details_types: [],
      allow_all_scopes: false,
    });
    const got = await api(t.app, { method: 'GET', url: `/api/v2/client-grants/${grant.id}`, token });
    expect(got.json()).toEqual(grant);
    const list = await api(t.app, {
      method: 'GET',
      url: `/api/v2/client-grants?audience=${encodeURIComponent(rs.identifier)}`,
      token,
    });
    expect(list.json()).toEqual([grant]);
  });

  it('drives client credentials: no grant, scopes, narrowing, allow_all_scopes, delete (seed 002)', async () => {
    const rs = await abcApi();
    const client = await make.client();
    const denied = await cc(client.clientId, client.clientSecret, rs.identifier);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toEqual({
      error: 'access_denied',
      error_description: `Client is not authorized to access "${rs.identifier}". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`,
    });
    const grant = (
      await post({ client_id: client.clientId, audience: rs.identifier, scope: ['a', 'b'] })
    ).json<{ id: string }>();
    const full = await cc(client.clientId, client.clientSecret, rs.identifier);
    expect(full.json<{ scope: string }>().scope).toBe('a b');
    const claims = jwtPayload(full.json<{ access_token: string }>().access_token);
    expect(claims).toMatchObject({
      iss: TEST_ISSUER,
      sub: `${client.clientId}@clients`,
      aud: rs.identifier,
      azp: client.clientId,
      scope: 'a b',
      gty: 'client-credentials',
    });
    expect(Number(claims['exp']) - Number(claims['iat'])).toBe(86400);
    expect(
      (await cc(client.clientId, client.clientSecret, rs.identifier, 'b c')).json<{ scope: string }>().scope,
    ).toBe('b');
    // An empty scope parameter means "none named", like an omitted one.
    expect(
      (await cc(client.clientId, client.clientSecret, rs.identifier, ' ')).json<{ scope: string }>().scope,
    ).toBe('a b');

    await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/client-grants/${grant.id}`,
      token,
      body: { allow_all_scopes: true },
    });
    expect(
      (await cc(client.clientId, client.clientSecret, rs.identifier)).json<{ scope: string }>().scope,
    ).toBe('a b c');
    await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/resource-servers/${rs.id}`,
      token,
      body: { scopes: [{ value: 'a' }, { value: 'b' }, { value: 'c' }, { value: 'd' }] },
    });
    expect(
      (await cc(client.clientId, client.clientSecret, rs.identifier)).json<{ scope: string }>().scope,
    ).toBe('a b c d');

    const del = await api(t.app, { method: 'DELETE', url: `/api/v2/client-grants/${grant.id}`, token });
    expect(del.statusCode).toBe(204);
    expect((await cc(client.clientId, client.clientSecret, rs.identifier)).statusCode).toBe(403);
  });

  it('does not let a user grant serve client credentials', async () => {
    const rs = await abcApi();
    const client = await make.client();
    expect(
      (
        await post({
          client_id: client.clientId,
          audience: rs.identifier,
          scope: ['a'],
          subject_type: 'user',
        })
      ).statusCode,
    ).toBe(201);
    expect((await cc(client.clientId, client.clientSecret, rs.identifier)).statusCode).toBe(403);
  });

  it('serves third-party apps through default_for grants, and never first-party apps', async () => {
    const rs = await abcApi();
    const third = await make.client({ isFirstParty: false });
    const first = await make.client();
    const res = await post({ default_for: 'third_party_clients', audience: rs.identifier, scope: ['c'] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ default_for: 'third_party_clients', scope: ['c'] });
    expect(res.json()).not.toHaveProperty('client_id');
    expect(
      (await cc(third.clientId, third.clientSecret, rs.identifier)).json<{ scope: string }>().scope,
    ).toBe('c');
    expect((await cc(first.clientId, first.clientSecret, rs.identifier)).statusCode).toBe(403);
    // A per-client grant overrides the default.
    await post({ client_id: third.clientId, audience: rs.identifier, scope: ['a'] });
    expect(
      (await cc(third.clientId, third.clientSecret, rs.identifier)).json<{ scope: string }>().scope,
    ).toBe('a');
  });

  it('answers 403 unauthorized_client when the client lacks the grant type', async () => {
    const rs = await abcApi();
    const client = await make.client({ grantTypes: ['authorization_code'] });
    await post({ client_id: client.clientId, audience: rs.identifier, scope: ['a'] });
    const res = await cc(client.clientId, client.clientSecret, rs.identifier);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      error: 'unauthorized_client',
      error_description: "Grant type 'client_credentials' not allowed for the client.",
    });
  });

  it('answers 409 for a second grant with the same client, audience and subject type', async () => {
    const rs = await abcApi();
    const client = await make.client();
    expect((await post({ client_id: client.clientId, audience: rs.identifier })).statusCode).toBe(201);
    const dup = await post({ client_id: client.clientId, audience: rs.identifier, scope: ['a'] });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: `A client grant already exists between ${client.clientId} and ${rs.identifier}`,
      errorCode: 'client_grant_conflict',
    });
    expect(
      (await post({ client_id: client.clientId, audience: rs.identifier, subject_type: 'user' })).statusCode,
    ).toBe(201);
  });

  it('answers 409 for concurrent duplicate creates (the unique index decides)', async () => {
    const rs = await abcApi();
    const client = await make.client();
    const results = await Promise.all(
      [1, 2, 3].map(() => post({ client_id: client.clientId, audience: rs.identifier })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
  });

  it.each([
    [
      'a scope the API does not define',
      (c: string, a: string) => ({ client_id: c, audience: a, scope: ['z'] }),
      400,
      'Payload validation error: scope must be a subset of resource server scopes',
      'invalid_body',
    ],
    [
      'both client_id and default_for',
      (c: string, a: string) => ({ client_id: c, default_for: 'third_party_clients', audience: a }),
      400,
      'Payload validation error: exactly one of client_id and default_for is required',
      'invalid_body',
    ],
    [
      'neither client_id nor default_for',
      (_c: string, a: string) => ({ audience: a }),
      400,
      'Payload validation error: exactly one of client_id and default_for is required',
      'invalid_body',
    ],
    [
      'an unknown client',
      (_c: string, a: string) => ({ client_id: 'nobody', audience: a }),
      404,
      'Client not found',
      'inexistent_client',
    ],
    [
      'an unknown audience',
      (c: string) => ({ client_id: c, audience: 'https://none/' }),
      404,
      'No resource server found by specified audience',
      'inexistent_resource_server',
    ],
    [
      'an unknown field',
      (c: string, a: string) => ({ client_id: c, audience: a, extra: true }),
      400,
      "Payload validation error: 'Additional properties not allowed: extra'.",
      'invalid_body',
    ],
    [
      'a non-array scope',
      (c: string, a: string) => ({ client_id: c, audience: a, scope: 'a' }),
      400,
      "Payload validation error: 'must be array' on property scope.",
      'invalid_body',
    ],
  ])('refuses %s', async (_name, body, status, message, errorCode) => {
    const rs = await abcApi();
    const client = await make.client();
    const res = await post(body(client.clientId, rs.identifier));
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({
      statusCode: status,
      error: status === 400 ? 'Bad Request' : 'Not Found',
      message,
      errorCode,
    });
  });

  it('keeps third-party apps and default_for grants away from system APIs', async () => {
    const third = await make.client({ isFirstParty: false });
    const a = await post({ client_id: third.clientId, audience: MGMT_AUDIENCE, scope: ['read:users'] });
    expect(a.statusCode).toBe(400);
    const b = await post({
      default_for: 'third_party_clients',
      audience: MGMT_AUDIENCE,
      scope: ['read:users'],
    });
    expect(b.statusCode).toBe(400);
  });

  it('patches only the mutable fields', async () => {
    const rs = await abcApi();
    const client = await make.client();
    const grant = (await post({ client_id: client.clientId, audience: rs.identifier, scope: ['a'] })).json<{
      id: string;
    }>();
    const ok = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/client-grants/${grant.id}`,
      token,
      body: { scope: ['b', 'c'], organization_usage: 'allow', allow_any_organization: true },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      scope: ['b', 'c'],
      organization_usage: 'allow',
      allow_any_organization: true,
    });
    for (const field of ['client_id', 'audience', 'subject_type']) {
      const res = await api(t.app, {
        method: 'PATCH',
        url: `/api/v2/client-grants/${grant.id}`,
        token,
        body: { [field]: 'x' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        message: `Payload validation error: 'Additional properties not allowed: ${field}'.`,
      });
    }
    const bad = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/client-grants/${grant.id}`,
      token,
      body: { scope: ['nope'] },
    });
    expect(bad.statusCode).toBe(400);
    const cleared = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/client-grants/${grant.id}`,
      token,
      body: { organization_usage: null },
    });
    expect(cleared.json()).not.toHaveProperty('organization_usage');
  });

  it('404s on unknown grants', async () => {
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await api(t.app, {
        method,
        url: '/api/v2/client-grants/cgr_missing',
        token,
        ...(method === 'PATCH' ? { body: {} } : {}),
      });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'The grant does not exist.',
        errorCode: 'inexistent_grant',
      });
    }
  });

  it('pages by offset with totals and by checkpoint, and filters', async () => {
    const rs = await abcApi();
    const clients = await Promise.all([1, 2, 3].map(() => make.client()));
    for (const c of clients) await post({ client_id: c.clientId, audience: rs.identifier, scope: ['a'] });
    const aud = encodeURIComponent(rs.identifier);
    const totals = await api(t.app, {
      method: 'GET',
      url: `/api/v2/client-grants?audience=${aud}&per_page=2&page=1&include_totals=true`,
      token,
    });
    expect(totals.json()).toMatchObject({ start: 2, limit: 2, total: 3 });
    expect(totals.json<{ client_grants: unknown[] }>().client_grants).toHaveLength(1);

    const first = await api(t.app, {
      method: 'GET',
      url: `/api/v2/client-grants?audience=${aud}&take=2`,
      token,
    });
    const page1 = first.json<{ client_grants: { id: string }[]; next?: string }>();
    expect(page1.client_grants).toHaveLength(2);
    expect(page1.next).toEqual(expect.any(String));
    const second = await api(t.app, {
      method: 'GET',
      url: `/api/v2/client-grants?audience=${aud}&take=2&from=${page1.next ?? ''}`,
      token,
    });
    const page2 = second.json<{ client_grants: { id: string }[]; next?: string }>();
    expect(page2.client_grants).toHaveLength(1);
    expect(page2.next).toBeUndefined();
    expect(new Set([...page1.client_grants, ...page2.client_grants].map((g) => g.id)).size).toBe(3);
    // Auth0 compat: take/from page by checkpoint; include_totals (auth0 v7 always sends it), page and
    // per_page beside them are ignored, not refused.
    const mixed = await api(t.app, {
      method: 'GET',
      url: `/api/v2/client-grants?audience=${aud}&include_totals=true&take=2&page=1&per_page=1`,
      token,
    });
    expect(mixed.statusCode).toBe(200);
    expect(mixed.json()).toEqual(first.json());

    const byClient = await api(t.app, {
      method: 'GET',
      url: `/api/v2/client-grants?client_id=${clients[0]?.clientId ?? ''}`,
      token,
    });
    expect(byClient.json<unknown[]>()).toHaveLength(1);
    const users = await api(t.app, {
      method: 'GET',
      url: `/api/v2/client-grants?audience=${aud}&subject_type=user`,
      token,
    });
    expect(users.json()).toEqual([]);
  });

  it.each([
    ['from=%%%', 'from'],
    ['take=0', 'take'],
    ['allow_any_organization=false', 'allow_any_organization'],
    ['unknown=1', 'unknown'],
  ])('answers 400 invalid_query_string for ?%s', async (q, word) => {
    const res = await api(t.app, { method: 'GET', url: `/api/v2/client-grants?${q}`, token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      errorCode: 'invalid_query_string',
      message: expect.stringContaining(word),
    });
  });

  // 'AA' decodes to "\0", which PostgreSQL refuses in a text comparison (it answered 500).
  it.each([
    ['AA', 'NUL'],
    [Buffer.from("cgr_1' OR '1'='1").toString('base64url'), 'quotes and spaces'],
    [Buffer.from('cgr_\n\u00e9').toString('base64url'), 'a control character and non-ASCII text'],
  ])('answers 400 invalid_query_string for a checkpoint cursor hiding %s (%s)', async (from) => {
    const res = await api(t.app, { method: 'GET', url: `/api/v2/client-grants?from=${from}`, token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Query validation error: from is not a valid checkpoint.',
      errorCode: 'invalid_query_string',
    });
  });

  it('checks scopes per operation', async () => {
    const narrow = await t.managementTokenWith(['read:client_grants']);
    const res = await api(t.app, {
      method: 'POST',
      url: '/api/v2/client-grants',
      token: narrow,
      body: { audience: 'x', client_id: 'y' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      message: 'Insufficient scope, expected any of: create:client_grants',
    });
  });
});
