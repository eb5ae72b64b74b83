import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  buildTestApp,
  MGMT_AUDIENCE,
  TEST_ISSUER,
  type TestApp,
} from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { clientCredentials, form, jwtHeader, jwtPayload } from '../../helpers/http.js';

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe.each(testBackends())('POST /oauth/token on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
  });
  afterAll(async () => {
    await t.close();
  });

  async function appWithGrant(over: Parameters<Factories['client']>[0] = {}) {
    const api = await make.api();
    const client = await make.client(over);
    await make.grant({
      clientId: client.clientId,
      audience: api.identifier,
      scope: ['read:things', 'write:things'],
    });
    return { api, client };
  }

  describe('client authentication', () => {
    it('accepts client_secret_post in a form body and answers with no-store', async () => {
      const { api, client } = await appWithGrant();
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        ...form({
          grant_type: 'client_credentials',
          client_id: client.clientId,
          client_secret: client.clientSecret,
          audience: api.identifier,
        }),
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['pragma']).toBe('no-cache');
      expect(res.json()).toEqual({
        access_token: expect.any(String),
        scope: 'read:things write:things',
        expires_in: 86400,
        token_type: 'Bearer',
      });
    });

    it('accepts client_secret_post in a JSON body', async () => {
      const { api, client } = await appWithGrant();
      const res = await clientCredentials(t.app, client, api.identifier);
      expect(res.statusCode).toBe(200);
    });

    it('accepts client_secret_basic for a client configured for it, with url-encoded credentials', async () => {
      const { api, client } = await appWithGrant({
        tokenEndpointAuthMethod: 'client_secret_basic',
        clientSecret: 'se:cr+et/with%chars',
      });
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { authorization: basic(client.clientId, 'se:cr+et/with%chars') },
        payload: { grant_type: 'client_credentials', audience: api.identifier },
      });
      expect(res.statusCode).toBe(200);
    });

    it('refuses client_secret_basic for a client_secret_post client with 401 invalid_client', async () => {
      const { api, client } = await appWithGrant();
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { authorization: basic(client.clientId, client.clientSecret) },
        payload: { grant_type: 'client_credentials', audience: api.identifier },
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic /);
      expect(res.json()).toEqual({
        error: 'invalid_client',
        error_description: 'Client authentication failed',
      });
    });

    it('sends no Basic challenge when a client that did not use Basic fails (RFC 6749 §5.2)', async () => {
      const { api, client } = await appWithGrant();
      const res = await clientCredentials(t.app, { ...client, clientSecret: 'wrong' }, api.identifier);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.json()).toEqual({
        error: 'invalid_client',
        error_description: 'Client authentication failed',
      });
    });

    it.each([
      ['a wrong secret', (id: string) => basic(id, 'wrong')],
      ['an unknown client', () => basic('nobody', 'whatever')],
      ['malformed credentials', () => 'Basic !!!'],
    ])('sends the Basic challenge when Basic fails with %s', async (_name, header) => {
      const { api, client } = await appWithGrant({ tokenEndpointAuthMethod: 'client_secret_basic' });
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { authorization: header(client.clientId) },
        payload: { grant_type: 'client_credentials', audience: api.identifier },
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="oauth", error="invalid_client"');
      expect(res.json<{ error: string }>().error).toBe('invalid_client');
    });

    it('lets the bootstrap client use both post and basic', async () => {
      for (const request of [
        {
          payload: {
            grant_type: 'client_credentials',
            client_id: BOOTSTRAP_CLIENT_ID,
            client_secret: BOOTSTRAP_CLIENT_SECRET,
            audience: MGMT_AUDIENCE,
          },
        },
        {
          headers: { authorization: basic(BOOTSTRAP_CLIENT_ID, BOOTSTRAP_CLIENT_SECRET) },
          payload: { grant_type: 'client_credentials', audience: MGMT_AUDIENCE },
        },
      ]) {
        const res = await t.app.inject({ method: 'POST', url: '/oauth/token', ...request });
        expect(res.statusCode).toBe(200);
      }
    });

    it.each([
      ['a wrong secret', (id: string) => ({ client_id: id, client_secret: 'wrong' })],
      ['an unknown client', () => ({ client_id: 'nobody', client_secret: 'whatever' })],
      ['no secret for a confidential client', (id: string) => ({ client_id: id })],
    ])('answers 401 invalid_client for %s', async (_name, creds) => {
      const { api, client } = await appWithGrant();
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: { grant_type: 'client_credentials', audience: api.identifier, ...creds(client.clientId) },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json<{ error: string }>().error).toBe('invalid_client');
    });

    it.each([
      ['a NUL in the Basic client id', () => ({ authorization: basic('a\u0000b', 'secret') }), {}],
      ['a Basic value that is not base64', () => ({ authorization: 'Basic a-b_c' }), {}],
      [
        'an assertion whose sub holds a NUL',
        () => ({}),
        {
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'x\u0000' })).toString('base64url')}.c2ln`,
        },
      ],
      ['a client id of 10,000 characters', () => ({}), { client_id: 'x'.repeat(10_000), client_secret: 's' }],
    ])('answers 401 invalid_client, never 500, for %s', async (_name, headers, body) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: headers(),
        payload: { grant_type: 'client_credentials', audience: MGMT_AUDIENCE, ...body },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json<{ error: string }>().error).toBe('invalid_client');
    });

    it('refuses two authentication methods at once', async () => {
      const { api, client } = await appWithGrant({ tokenEndpointAuthMethod: 'client_secret_basic' });
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { authorization: basic(client.clientId, client.clientSecret) },
        payload: {
          grant_type: 'client_credentials',
          audience: api.identifier,
          client_id: client.clientId,
          client_secret: client.clientSecret,
        },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'invalid_request',
        error_description: 'Only one client authentication method may be used',
      });
    });

    it('refuses client credentials for a public client', async () => {
      const { api, client } = await appWithGrant({ tokenEndpointAuthMethod: 'none', appType: 'spa' });
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: { grant_type: 'client_credentials', client_id: client.clientId, audience: api.identifier },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json<{ error: string }>().error).toBe('unauthorized_client');
    });
  });

  describe('request errors', () => {
    it.each([
      [
        { client_id: BOOTSTRAP_CLIENT_ID, client_secret: BOOTSTRAP_CLIENT_SECRET },
        400,
        { error: 'invalid_request', error_description: 'Missing required parameter: grant_type' },
      ],
      [
        { grant_type: 'urn:made:up', client_id: BOOTSTRAP_CLIENT_ID, client_secret: BOOTSTRAP_CLIENT_SECRET },
        400,
        { error: 'unsupported_grant_type', error_description: 'Unsupported grant type: urn:made:up' },
      ],
      [
        {
          grant_type: 'client_credentials',
          client_id: BOOTSTRAP_CLIENT_ID,
          client_secret: BOOTSTRAP_CLIENT_SECRET,
        },
        400,
        { error: 'invalid_request', error_description: 'Missing required parameter: audience' },
      ],
      [
        {
          grant_type: 'client_credentials',
          client_id: BOOTSTRAP_CLIENT_ID,
          client_secret: BOOTSTRAP_CLIENT_SECRET,
          audience: 'https://nope.example.com/',
        },
        403,
        {
          error: 'access_denied',
          error_description: 'Service not enabled within domain: https://nope.example.com/',
        },
      ],
      [
        {
          grant_type: 'client_credentials',
          client_id: BOOTSTRAP_CLIENT_ID,
          client_secret: 42,
          audience: MGMT_AUDIENCE,
        },
        400,
        { error: 'invalid_request', error_description: 'Invalid parameter: client_secret must be a string' },
      ],
    ])('answers %j with %i', async (payload, status, body) => {
      const res = await t.app.inject({ method: 'POST', url: '/oauth/token', payload });
      expect(res.statusCode).toBe(status);
      expect(res.json()).toEqual(body);
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('refuses a repeated parameter', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `grant_type=client_credentials&audience=a&audience=b&client_id=${BOOTSTRAP_CLIENT_ID}&client_secret=${BOOTSTRAP_CLIENT_SECRET}`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'invalid_request',
        error_description: 'Duplicate parameter: audience',
      });
    });

    it.each([
      ['malformed JSON', 'application/json', '{"grant_type":'],
      ['a JSON array', 'application/json', '[1,2]'],
      ['an unsupported content type', 'text/plain', 'grant_type=client_credentials'],
    ])('answers 400 invalid_request for %s, never 500', async (_name, type, payload) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': type },
        payload,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ error: string }>().error).toBe('invalid_request');
    });

    it('answers 403 unauthorized_client when the grant type is not enabled for the client', async () => {
      const { api, client } = await appWithGrant({ grantTypes: ['authorization_code'] });
      const res = await clientCredentials(t.app, client, api.identifier);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({
        error: 'unauthorized_client',
        error_description: "Grant type 'client_credentials' not allowed for the client.",
      });
    });
  });

  describe('error precedence (node-oidc-provider order: parse, allow-list, duplicates, client, grant)', () => {
    const unknownClient = { client_id: 'nobody', client_secret: 'whatever' };
    const bootstrap = { client_id: BOOTSTRAP_CLIENT_ID, client_secret: BOOTSTRAP_CLIENT_SECRET };

    it.each([
      ['an unknown grant type', { grant_type: 'urn:made:up' }],
      ['no grant type', {}],
      ['a grant type the client may not use', { grant_type: 'password', username: 'u', password: 'p' }],
    ])('authenticates the client before looking at %s', async (_name, fields) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: { ...fields, ...unknownClient },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({
        error: 'invalid_client',
        error_description: 'Client authentication failed',
      });
    });

    it('answers a missing client id before the grant type', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: { grant_type: 'urn:x' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'invalid_request',
        error_description: 'Missing required parameter: client_id',
      });
    });

    it('refuses a repeated parameter before authenticating the client', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `${new URLSearchParams({ grant_type: 'client_credentials', ...unknownClient }).toString()}&scope=a&scope=b`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'invalid_request',
        error_description: 'Duplicate parameter: scope',
      });
    });

    it('drops parameters no grant reads, repeated ones included, instead of refusing them', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `${new URLSearchParams({ grant_type: 'client_credentials', ...bootstrap, audience: MGMT_AUDIENCE }).toString()}&foo=1&foo=2`,
      });
      expect(res.statusCode).toBe(200);
    });

    it('checks the grant type is supported before it is allowed for the client', async () => {
      const { client } = await appWithGrant({ grantTypes: ['authorization_code'] });
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'urn:made:up',
          client_id: client.clientId,
          client_secret: client.clientSecret,
        },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'unsupported_grant_type',
        error_description: 'Unsupported grant type: urn:made:up',
      });
    });
  });

  describe('client-credentials access tokens (spec 1.7)', () => {
    it('carries Auth0 claims and expires after the API token_lifetime', async () => {
      const { api, client } = await appWithGrant();
      const res = await clientCredentials(t.app, client, api.identifier);
      const token = res.json<{ access_token: string }>().access_token;
      const claims = jwtPayload(token);
      const now = Math.floor(t.clock.now() / 1000);
      expect(claims).toEqual({
        iss: TEST_ISSUER,
        sub: `${client.clientId}@clients`,
        aud: api.identifier,
        iat: now,
        exp: now + 86400,
        scope: 'read:things write:things',
        azp: client.clientId,
        gty: 'client-credentials',
      });
      expect(jwtHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: expect.any(String) });
    });

    it.each([
      ['access_token_authz', true, ['read:things', 'write:things']],
      ['rfc9068_profile_authz', true, ['read:things', 'write:things']],
      ['access_token_authz', false, undefined],
      ['access_token', true, undefined],
    ] as const)(
      'with dialect %s and RBAC %s carries permissions %j (the granted scopes)',
      async (dialect, rbac, permissions) => {
        const api = await make.api({ tokenDialect: dialect, enforcePolicies: rbac });
        const client = await make.client();
        await make.grant({
          clientId: client.clientId,
          audience: api.identifier,
          scope: ['read:things', 'write:things'],
        });
        const res = await clientCredentials(t.app, client, api.identifier);
        expect(res.statusCode).toBe(200);
        expect(jwtPayload(res.json<{ access_token: string }>().access_token)['permissions']).toEqual(
          permissions,
        );
      },
    );

    it('accepts `resource` as an alias of audience', async () => {
      const { api, client } = await appWithGrant();
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'client_credentials',
          client_id: client.clientId,
          client_secret: client.clientSecret,
          resource: api.identifier,
        },
      });
      expect(res.statusCode).toBe(200);
      expect(jwtPayload(res.json<{ access_token: string }>().access_token)['aud']).toBe(api.identifier);
    });

    it('omits scope when the grant allows nothing that was asked for', async () => {
      const { api, client } = await appWithGrant();
      const res = await clientCredentials(t.app, client, api.identifier, { scope: 'delete:things' });
      expect(res.statusCode).toBe(200);
      expect(res.json<Record<string, unknown>>()['scope']).toBeUndefined();
      expect(jwtPayload(res.json<{ access_token: string }>().access_token)['scope']).toBeUndefined();
    });
  });
});
