import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form } from '../../helpers/http.js';

const CURRENT_USER = ['create:current_user_device_credentials', 'delete:current_user_device_credentials'];
const KEY = {
  device_name: 'Ada’s phone',
  type: 'public_key',
  value: 'MFkwEwYHKoZIzj0CAQ==',
  device_id: 'a1b2-c3d4',
};

interface Credential {
  id: string;
  device_name: string;
  device_id: string;
  type: string;
  user_id: string;
  client_id: string;
}

/** A form post from a device that names itself in its user agent. */
function withAgent(fields: Record<string, string>) {
  const body = form(fields);
  return { ...body, headers: { ...body.headers, 'user-agent': 'DeviceTest/1.0' } };
}

// Seed 003, spec 4.6: a user's devices register public keys with the user's own token.
describe.each(testBackends())('Management API /device-credentials on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let app: Client;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    app = await make.client({
      grantTypes: ['password', 'refresh_token'],
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    await make.enableConnection(app.clientId);
    await make.grant({
      clientId: app.clientId,
      audience: MGMT_AUDIENCE,
      subjectType: 'user',
      scope: CURRENT_USER,
    });
  });
  afterAll(async () => {
    await t.close();
  });

  /** The user's own Management API token from the password grant. */
  const signIn = async (user: User) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...withAgent({
        grant_type: 'password',
        client_id: app.clientId,
        client_secret: app.clientSecret,
        username: user.email ?? '',
        password: 'Pass-word-123',
        audience: MGMT_AUDIENCE,
        scope: CURRENT_USER.join(' '),
      }),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ access_token: string }>();
  };
  /** A refresh token of the user's session in the application (a device credential of its own kind). */
  const refreshTokenOf = async (user: User) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...withAgent({
        grant_type: 'password',
        client_id: app.clientId,
        client_secret: app.clientSecret,
        username: user.email ?? '',
        password: 'Pass-word-123',
        scope: 'openid offline_access',
      }),
    });
    const token = res.json<{ refresh_token?: string }>().refresh_token;
    if (token === undefined) throw new Error(`no refresh token: ${res.body}`);
    return token;
  };
  const list = async (query: string) => {
    const res = await api(t.app, {
      method: 'GET',
      url: `/api/v2/device-credentials${query}`,
      token: await t.managementTokenWith(['read:device_credentials']),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Credential[]>();
  };

  it('registers a key for the token’s own user and application, once per device', async () => {
    const user = await make.user();
    const { access_token } = await signIn(user);
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/device-credentials',
      token: access_token,
      body: KEY,
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<{ id: string }>();
    expect(id).toMatch(/^dcr_/);
    expect(await list(`?user_id=${encodeURIComponent(user.userId)}&type=public_key`)).toEqual([
      {
        id,
        device_name: KEY.device_name,
        device_id: KEY.device_id,
        type: 'public_key',
        user_id: user.userId,
        client_id: app.clientId,
      },
    ]);
    const again = await api(t.app, {
      method: 'POST',
      url: '/api/v2/device-credentials',
      token: access_token,
      body: KEY,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json<{ message: string }>().message).toBe('A public key already exists for the device.');
    // Another device of the same user is another key.
    const other = await api(t.app, {
      method: 'POST',
      url: '/api/v2/device-credentials',
      token: access_token,
      body: { ...KEY, device_id: 'ffff' },
    });
    expect(other.statusCode).toBe(201);
  });

  it('refuses bad bodies and a client’s own token', async () => {
    const user = await make.user();
    const { access_token } = await signIn(user);
    for (const body of [
      { ...KEY, type: 'refresh_token' },
      { ...KEY, device_id: 'not hex!' },
      { ...KEY, device_id: 'a'.repeat(37) },
      { ...KEY, device_name: '' },
      { ...KEY, value: '' },
      { ...KEY, extra: 1 },
      { ...KEY, client_id: 'no-such-client' },
    ]) {
      const res = await api(t.app, {
        method: 'POST',
        url: '/api/v2/device-credentials',
        token: access_token,
        body,
      });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    const asClient = await api(t.app, {
      method: 'POST',
      url: '/api/v2/device-credentials',
      token: await t.managementTokenWith(['create:device_credentials']),
      body: KEY,
    });
    expect(asClient.statusCode).toBe(403);
    expect(asClient.json<{ message: string }>().message).toBe(
      'Cannot create device credentials for that user.',
    );
  });

  it('lists the user’s refresh tokens beside the keys, filtered by type and client', async () => {
    const user = await make.user();
    const { access_token } = await signIn(user);
    await refreshTokenOf(user);
    await api(t.app, { method: 'POST', url: '/api/v2/device-credentials', token: access_token, body: KEY });
    const all = await list(`?user_id=${encodeURIComponent(user.userId)}`);
    expect(all).toHaveLength(2);
    const tokens = all.filter((c) => c.type !== 'public_key');
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({
      user_id: user.userId,
      client_id: app.clientId,
      device_name: 'DeviceTest/1.0',
    });
    expect(await list(`?user_id=${encodeURIComponent(user.userId)}&type=public_key`)).toHaveLength(1);
    expect(await list(`?user_id=${encodeURIComponent(user.userId)}&client_id=someone-else`)).toEqual([]);
    const totals = await api(t.app, {
      method: 'GET',
      url: `/api/v2/device-credentials?user_id=${encodeURIComponent(user.userId)}&include_totals=true&per_page=1`,
      token: await t.managementTokenWith(['read:device_credentials']),
    });
    expect(totals.json()).toMatchObject({
      start: 0,
      limit: 1,
      total: 2,
      device_credentials: [expect.any(Object)],
    });
  });

  it('deletes one’s own credential with the current-user scope, anyone’s with delete:device_credentials', async () => {
    const ada = await make.user();
    const bob = await make.user();
    const adaTokens = { ...(await signIn(ada)), refresh_token: await refreshTokenOf(ada) };
    const bobTokens = await signIn(bob);
    const adaKey = (
      await api(t.app, {
        method: 'POST',
        url: '/api/v2/device-credentials',
        token: adaTokens.access_token,
        body: KEY,
      })
    ).json<{ id: string }>().id;
    const del = (id: string, token: string) =>
      api(t.app, { method: 'DELETE', url: `/api/v2/device-credentials/${id}`, token });
    const foreign = await del(adaKey, bobTokens.access_token);
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json<{ message: string }>().message).toBe(
      'User to be acted on does not match subject in bearer token.',
    );
    expect((await del(adaKey, adaTokens.access_token)).statusCode).toBe(204);
    expect((await del(adaKey, adaTokens.access_token)).statusCode).toBe(404);
    // Ada's refresh token, deleted by an administrator, stops working.
    const token = (await list(`?user_id=${encodeURIComponent(ada.userId)}`)).find(
      (c) => c.type !== 'public_key',
    );
    expect(token).toBeDefined();
    expect(
      (await del(token?.id ?? '', await t.managementTokenWith(['delete:device_credentials']))).statusCode,
    ).toBe(204);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'refresh_token',
        client_id: app.clientId,
        client_secret: app.clientSecret,
        refresh_token: adaTokens.refresh_token,
      }),
    });
    expect(refreshed.statusCode).toBe(403);
  });
});
