import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form } from '../../helpers/http.js';

// Seed 003: ID tokens are refused as bearer tokens unless the tenant turns the legacy flag on.
describe.each(testBackends())('ID tokens on the Management API on $name (seed 003)', (backend) => {
  let t: TestApp;
  let make: Factories;
  let app: Client;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    app = await make.client({ grantTypes: ['password'], tokenEndpointAuthMethod: 'client_secret_post' });
    await make.enableConnection(app.clientId);
  });
  afterAll(async () => {
    await t.close();
  });

  const idTokenOf = async (user: User) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        client_id: app.clientId,
        client_secret: app.clientSecret,
        username: user.email ?? '',
        password: 'Pass-word-123',
        scope: 'openid email',
      }),
    });
    const idToken = res.json<{ id_token?: string }>().id_token;
    if (idToken === undefined) throw new Error(res.body);
    return idToken;
  };
  const setFlag = async (on: boolean) => {
    const res = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token: await t.managementTokenWith(['update:tenant_settings']),
      body: { flags: { enable_idtoken_api2: on } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ flags: Record<string, boolean> }>().flags['enable_idtoken_api2']).toBe(on);
  };
  const userUrl = (u: User) => `/api/v2/users/${encodeURIComponent(u.userId)}`;

  it('refuses an ID token with 401 while the flag is off, its default', async () => {
    const settings = await api(t.app, {
      method: 'GET',
      url: '/api/v2/tenants/settings',
      token: await t.managementTokenWith(['read:tenant_settings']),
    });
    expect(settings.json<{ flags: Record<string, boolean> }>().flags['enable_idtoken_api2']).toBe(false);
    const user = await make.user();
    const res = await api(t.app, { method: 'GET', url: userUrl(user), token: await idTokenOf(user) });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ message: string }>().message).toBe(`Bad audience: ${app.clientId}`);
  });

  it('with the flag on, lets an ID token act on its own user through the seed’s endpoints only', async () => {
    const user = await make.user();
    const other = await make.user();
    const idToken = await idTokenOf(user);
    await setFlag(true);
    try {
      const own = await api(t.app, { method: 'GET', url: userUrl(user), token: idToken });
      expect(own.statusCode, own.body).toBe(200);
      expect(own.json<{ user_id: string }>().user_id).toBe(user.userId);
      const patched = await api(t.app, {
        method: 'PATCH',
        url: userUrl(user),
        token: idToken,
        body: { user_metadata: { theme: 'dark' } },
      });
      expect(patched.statusCode).toBe(200);
      expect(patched.json<{ user_metadata: unknown }>().user_metadata).toEqual({ theme: 'dark' });
      const foreign = await api(t.app, { method: 'GET', url: userUrl(other), token: idToken });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.json<{ message: string }>().message).toBe(
        'User to be acted on does not match subject in bearer token.',
      );
      // Not an endpoint of the seed's list: the ID token holds none of its scopes.
      const list = await api(t.app, { method: 'GET', url: '/api/v2/users', token: idToken });
      expect(list.statusCode).toBe(403);
      const email = await api(t.app, {
        method: 'PATCH',
        url: userUrl(user),
        token: idToken,
        body: { email: 'new@example.com' },
      });
      expect(email.statusCode).toBe(403);
      const deleted = await api(t.app, { method: 'DELETE', url: userUrl(user), token: idToken });
      expect(deleted.statusCode).toBe(403);
      // An ID token for no application of the tenant, or signed by anyone else, is still refused.
      const now = Math.floor(t.clock.now() / 1000);
      const stray = await t.deps.signer.sign(
        { iss: TEST_ISSUER, sub: user.userId, aud: 'not-a-client', iat: now, exp: now + 60 },
        { alg: 'RS256', typ: 'JWT' },
      );
      expect((await api(t.app, { method: 'GET', url: userUrl(user), token: stray })).statusCode).toBe(401);
    } finally {
      await setFlag(false);
    }
    expect((await api(t.app, { method: 'GET', url: userUrl(user), token: idToken })).statusCode).toBe(401);
  });
});
