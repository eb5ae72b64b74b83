import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form } from '../../helpers/http.js';

const SPA_ORIGIN = 'https://spa.example.com';
const OTHER_ORIGIN = 'https://other-app.example.net';
const UNLISTED = 'https://evil.example.org';
const PASSWORD = 'Pass-word-123';

interface Tokens {
  access_token: string;
  refresh_token?: string;
}

/** Every Access-Control-* header of an answer; none is ever the `*` wildcard. */
function corsHeaders(res: LightMyRequestResponse): Record<string, unknown> {
  expect(res.headers['access-control-allow-origin']).not.toBe('*');
  return Object.fromEntries(
    Object.entries(res.headers).filter(([name]) => name.startsWith('access-control-')),
  );
}

describe.each(testBackends())('CORS on the Authentication API on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let spa: Client;
  let other: Client;
  let audience: string;
  let email: string;

  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    audience = (await make.api({ scopes: [{ value: 'read:a' }], allowOfflineAccess: true })).identifier;
    spa = await make.client({
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['password', 'refresh_token'],
      settings: { web_origins: [SPA_ORIGIN], callbacks: [`${SPA_ORIGIN}/callback`] },
    });
    other = await make.client({
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['password', 'refresh_token'],
      settings: { allowed_origins: [OTHER_ORIGIN, 'https://*.apps.example.io'] },
    });
    for (const c of [spa, other]) await make.enableConnection(c.clientId);
    email = (await make.user()).email ?? '';
  });
  afterAll(async () => {
    await t.close();
  });

  const preflight = (url: string, origin: string, method = 'POST') =>
    t.app.inject({
      method: 'OPTIONS',
      url,
      headers: {
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': 'auth0-client,content-type',
      },
    });
  const token = (client: Client, origin: string | undefined, fields: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: {
        'content-type': 'application/json',
        'auth0-client': 'eyJuYW1lIjoiYXV0aDAtc3BhLWpzIn0=',
        ...(origin !== undefined ? { origin } : {}),
      },
      payload: { client_id: client.clientId, ...fields },
    });
  const login = (client: Client, origin: string | undefined, password = PASSWORD) =>
    token(client, origin, {
      grant_type: 'password',
      username: email,
      password,
      audience,
      scope: 'openid offline_access read:a',
    });

  it.each([
    ['/oauth/token', 'POST'],
    ['/oauth/revoke', 'POST'],
    ['/userinfo', 'GET'],
  ])(
    'answers a preflight to %s from an origin an application lists with 204 and the grant',
    async (url, method) => {
      for (const origin of [SPA_ORIGIN, OTHER_ORIGIN, 'https://team1.apps.example.io']) {
        const res = await preflight(url, origin, method);
        expect(res.statusCode).toBe(204);
        expect(res.body).toBe('');
        expect(corsHeaders(res)).toEqual({
          'access-control-allow-origin': origin,
          'access-control-allow-methods': method,
          'access-control-allow-headers': 'Content-Type, Authorization, Auth0-Client, DPoP',
          'access-control-max-age': '86400',
        });
        expect(res.headers['vary']).toBe('Origin');
      }
    },
  );

  it.each(['/oauth/token', '/oauth/revoke', '/userinfo'])(
    'refuses a preflight to %s from an origin no application lists, never reflecting it',
    async (url) => {
      for (const origin of [
        UNLISTED,
        'null',
        'http://spa.example.com', // another scheme
        'https://spa.example.com:8443', // another port
        'https://spa.example.com.evil.example.org',
        'https://a.b.apps.example.io', // the placeholder stands for one label only
        'https://apps.example.io',
        `${SPA_ORIGIN}/path`,
      ]) {
        const res = await preflight(url, origin);
        expect(res.statusCode, origin).toBe(403);
        expect(corsHeaders(res), origin).toEqual({});
        expect(res.body).toBe('');
      }
    },
  );

  it('compares origins after the URL standard normalises scheme, host and default port', async () => {
    const res = await preflight('/oauth/token', 'HTTPS://SPA.Example.COM:443');
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
  });

  it('answers an OPTIONS that is not a preflight with 204 and Allow', async () => {
    const res = await t.app.inject({ method: 'OPTIONS', url: '/oauth/token' });
    expect(res.statusCode).toBe(204);
    expect(res.headers['allow']).toBe('POST, OPTIONS');
    expect(corsHeaders(res)).toEqual({});
  });

  it('lets the page read a token answer only when the requesting application lists its origin', async () => {
    const allowed = await login(spa, SPA_ORIGIN);
    expect(allowed.statusCode).toBe(200);
    expect(corsHeaders(allowed)).toEqual({
      'access-control-allow-origin': SPA_ORIGIN,
      'access-control-expose-headers': 'WWW-Authenticate, DPoP-Nonce',
    });
    expect(allowed.headers['vary']).toBe('Origin');
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();

    // The other application's origin is allowed for a preflight, but this answer is the first one's.
    const foreign = await login(spa, OTHER_ORIGIN);
    expect(foreign.statusCode).toBe(200);
    expect(corsHeaders(foreign)).toEqual({});
    expect(foreign.headers['vary']).toBe('Origin');

    const byPlaceholder = await login(other, 'https://team1.apps.example.io');
    expect(byPlaceholder.headers['access-control-allow-origin']).toBe('https://team1.apps.example.io');

    const noOrigin = await login(spa, undefined);
    expect(noOrigin.statusCode).toBe(200);
    expect(corsHeaders(noOrigin)).toEqual({});
  });

  it('carries the grant on error answers too, so the application can read invalid_grant', async () => {
    const wrong = await login(spa, SPA_ORIGIN, 'not-the-password');
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ error: 'invalid_grant' });
    expect(wrong.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);

    const badRefresh = await token(spa, SPA_ORIGIN, { grant_type: 'refresh_token', refresh_token: 'nope' });
    expect(badRefresh.statusCode).toBe(403);
    expect(badRefresh.json()).toMatchObject({ error: 'invalid_grant' });
    expect(badRefresh.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);

    const foreign = await login(spa, UNLISTED, 'not-the-password');
    expect(foreign.statusCode).toBe(403);
    expect(corsHeaders(foreign)).toEqual({});

    const unknownClient = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { origin: SPA_ORIGIN },
      payload: { grant_type: 'refresh_token', client_id: 'no-such-client', refresh_token: 'x' },
    });
    expect(unknownClient.statusCode).toBe(401);
    expect(corsHeaders(unknownClient)).toEqual({});
  });

  it('answers form-encoded refresh and revocation requests with the grant', async () => {
    const refreshToken = (await login(spa, SPA_ORIGIN)).json<Tokens>().refresh_token ?? '';
    const body = form({ grant_type: 'refresh_token', client_id: spa.clientId, refresh_token: refreshToken });
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...body.headers, origin: SPA_ORIGIN },
      payload: body.payload,
    });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
    const next = refreshed.json<Tokens>().refresh_token ?? refreshToken;

    const revoke = (origin: string) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: { origin, 'content-type': 'application/json' },
        payload: { client_id: spa.clientId, token: next },
      });
    const foreign = await revoke(OTHER_ORIGIN);
    expect(foreign.statusCode).toBe(200);
    expect(corsHeaders(foreign)).toEqual({});
    const revoked = await revoke(SPA_ORIGIN);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
    expect(revoked.headers['vary']).toBe('Origin');
  });

  it("answers /userinfo with the grant when the token's application lists the origin", async () => {
    const accessToken = (await login(spa, SPA_ORIGIN)).json<Tokens>().access_token;
    const userinfo = (origin: string, bearer = accessToken) =>
      t.app.inject({
        method: 'GET',
        url: '/userinfo',
        headers: { origin, authorization: `Bearer ${bearer}` },
      });
    const allowed = await userinfo(SPA_ORIGIN);
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toMatchObject({ sub: expect.stringMatching(/^auth0\|/) });
    expect(corsHeaders(allowed)).toEqual({
      'access-control-allow-origin': SPA_ORIGIN,
      'access-control-expose-headers': 'WWW-Authenticate, DPoP-Nonce',
    });
    expect(allowed.headers['vary']).toBe('Origin');
    const foreign = await userinfo(OTHER_ORIGIN);
    expect(foreign.statusCode).toBe(200);
    expect(corsHeaders(foreign)).toEqual({});
    // A token that cannot be verified names no application: nothing to grant.
    const bad = await userinfo(SPA_ORIGIN, 'not-a-token');
    expect(bad.statusCode).toBe(401);
    expect(corsHeaders(bad)).toEqual({});
  });

  it('takes a web_origins change through the Management API into account at once', async () => {
    const newOrigin = 'https://new-home.example.com';
    // Read both caches (the tenant's origins and the client) before the change.
    expect((await preflight('/oauth/token', newOrigin)).statusCode).toBe(403);
    expect(corsHeaders(await login(spa, newOrigin))).toEqual({});

    const mgmt = await t.managementToken();
    const patched = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/clients/${spa.clientId}`,
      token: mgmt,
      body: { web_origins: [newOrigin] },
    });
    expect(patched.statusCode).toBe(200);

    const allowed = await preflight('/oauth/token', newOrigin);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(newOrigin);
    expect((await login(spa, newOrigin)).headers['access-control-allow-origin']).toBe(newOrigin);
    // The old web origin is gone at once; the callback's origin still counts, as Auth0's does.
    expect((await preflight('/oauth/token', SPA_ORIGIN)).statusCode).toBe(204);

    await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/clients/${spa.clientId}`,
      token: mgmt,
      body: { web_origins: [], callbacks: [] },
    });
    expect((await preflight('/oauth/token', SPA_ORIGIN)).statusCode).toBe(403);
    expect(corsHeaders(await login(spa, SPA_ORIGIN))).toEqual({});
    expect(corsHeaders(await login(spa, newOrigin))).toEqual({});
  });

  it('leaves the Management API and pages without CORS', async () => {
    const mgmt = await t.managementToken();
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v2/clients',
      headers: { origin: SPA_ORIGIN, authorization: `Bearer ${mgmt}` },
    });
    expect(res.statusCode).toBe(200);
    expect(corsHeaders(res)).toEqual({});
    const pre = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v2/clients',
      headers: { origin: SPA_ORIGIN, 'access-control-request-method': 'GET' },
    });
    expect(corsHeaders(pre)).toEqual({});
  });
});
