import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';

interface Item {
  id: string;
  client_id: string;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

describe.each(testBackends())('/api/v2 refresh-token endpoints on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let audience: string;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    audience = (await make.api({ scopes: [{ value: 'read:a' }], allowOfflineAccess: true })).identifier;
    token = await t.managementTokenWith(['read:refresh_tokens', 'delete:refresh_tokens']);
  });
  afterAll(async () => {
    await t.close();
  });

  async function appFor(refresh: Record<string, unknown> = {}): Promise<Client> {
    const client = await make.client({
      grantTypes: ['password', 'refresh_token'],
      settings: { refresh_token: refresh },
    });
    await make.enableConnection(client.clientId);
    return client;
  }
  const tokenRequest = (
    client: Client,
    fields: Record<string, string>,
    from = '203.0.113.5',
    agent = 'App/1.0',
  ) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      remoteAddress: from,
      headers: { 'user-agent': agent },
      payload: { client_id: client.clientId, client_secret: client.clientSecret, ...fields },
    });
  const login = async (client: Client, user: User, scope = 'openid offline_access read:a') =>
    (
      await tokenRequest(client, {
        grant_type: 'password',
        username: user.email ?? '',
        password: 'Pass-word-123',
        audience,
        scope,
      })
    ).json<{ refresh_token: string }>().refresh_token;
  const refresh = (client: Client, rt: string, from?: string, agent?: string) =>
    tokenRequest(client, { grant_type: 'refresh_token', refresh_token: rt }, from, agent);
  const get = (url: string) => api(t.app, { method: 'GET', url, token });
  const del = (url: string) => api(t.app, { method: 'DELETE', url, token });
  const tokensOf = (user: User, query = '') =>
    get(`/api/v2/users/${encodeURIComponent(user.userId)}/refresh-tokens${query}`);

  it('lists a user’s refresh tokens in Auth0’s item shape, with where they were issued and last used', async () => {
    const client = await appFor({ rotation_type: 'non-rotating', expiration_type: 'expiring' });
    const user = await make.user();
    const issuedAt = Math.floor(t.clock.now() / 1000);
    const rt = await login(client, user);
    t.clock.advance(5000);
    expect((await refresh(client, rt, '198.51.100.9', 'App/2.0')).statusCode).toBe(200);
    const usedAt = issuedAt + 5;
    const res = await tokensOf(user);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      tokens: [
        {
          id: expect.stringMatching(/^rt_/),
          user_id: user.userId,
          created_at: iso(issuedAt),
          idle_expires_at: iso(usedAt + 1_296_000),
          expires_at: iso(issuedAt + 2_592_000),
          device: {
            initial_ip: '203.0.113.5',
            initial_user_agent: 'App/1.0',
            last_ip: '198.51.100.9',
            last_user_agent: 'App/2.0',
          },
          client_id: client.clientId,
          session_id: null,
          rotating: false,
          resource_servers: [{ audience, scopes: 'openid read:a offline_access' }],
          last_exchanged_at: iso(usedAt),
        },
      ],
    });
    const id = res.json<{ tokens: Item[] }>().tokens[0]?.id ?? '';
    const one = await get(`/api/v2/refresh-tokens/${id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(res.json<{ tokens: Item[] }>().tokens[0]);
  });

  it('pages by checkpoint (from/take) and shows only tokens that can still be exchanged', async () => {
    const rotating = await appFor({ rotation_type: 'rotating', expiration_type: 'expiring', leeway: 0 });
    const plain = await appFor();
    const user = await make.user();
    const first = await login(rotating, user);
    // The rotated predecessor is used up: only its successor is listed.
    expect((await refresh(rotating, first)).statusCode).toBe(200);
    await login(plain, user);
    await login(plain, user);
    const revoked = await login(plain, user);
    await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { client_id: plain.clientId, client_secret: plain.clientSecret, token: revoked },
    });
    const all = (await tokensOf(user)).json<{ tokens: Item[] }>().tokens;
    expect(all.map((i) => i.client_id).sort()).toEqual(
      [plain.clientId, plain.clientId, rotating.clientId].sort(),
    );
    const page1 = await tokensOf(user, '?take=2&include_totals=true');
    expect(page1.json()).toEqual({ tokens: all.slice(0, 2), next: expect.any(String) });
    const next = page1.json<{ next: string }>().next;
    const page2 = await tokensOf(user, `?take=2&from=${encodeURIComponent(next)}`);
    expect(page2.json()).toEqual({ tokens: all.slice(2) });
  });

  it('answers 404 for an unknown user or token, 400 for a forged checkpoint', async () => {
    const missingUser = await get('/api/v2/users/auth0%7Cnobody/refresh-tokens');
    expect(missingUser.statusCode).toBe(404);
    expect(missingUser.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The user does not exist.',
      errorCode: 'inexistent_user',
    });
    expect((await del('/api/v2/users/auth0%7Cnobody/refresh-tokens')).statusCode).toBe(404);
    const missingToken = await get('/api/v2/refresh-tokens/rt_nope');
    expect(missingToken.statusCode).toBe(404);
    expect(missingToken.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The refresh token does not exist.',
      errorCode: 'inexistent_refresh_token',
    });
    const user = await make.user();
    const forged = await tokensOf(user, '?from=not-a-checkpoint');
    expect(forged.statusCode).toBe(400);
    expect(forged.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Query validation error: from is not a valid checkpoint.',
      errorCode: 'invalid_query_string',
    });
  });

  it('DELETE /refresh-tokens/{id} ends that sign-in (its rotation family) and nothing else', async () => {
    const client = await appFor({ rotation_type: 'rotating', expiration_type: 'expiring', leeway: 30 });
    const user = await make.user();
    const rt1 = await login(client, user);
    const rt2 = (await refresh(client, rt1)).json<{ refresh_token: string }>().refresh_token;
    const [current] = (await tokensOf(user)).json<{ tokens: Item[] }>().tokens;
    const other = await login(client, user);
    expect((await del(`/api/v2/refresh-tokens/${current?.id ?? ''}`)).statusCode).toBe(204);
    expect((await get(`/api/v2/refresh-tokens/${current?.id ?? ''}`)).statusCode).toBe(404);
    // rt1 would still be inside its reuse leeway: the whole family is gone all the same.
    expect((await refresh(client, rt1)).statusCode).toBe(403);
    expect((await refresh(client, rt2)).statusCode).toBe(403);
    expect((await refresh(client, other)).statusCode).toBe(200);
    // Nothing left to revoke is not an error.
    expect((await del('/api/v2/refresh-tokens/rt_gone')).statusCode).toBe(204);
  });

  it('DELETE /users/{id}/refresh-tokens revokes them all', async () => {
    const client = await appFor();
    const user = await make.user();
    const rts = [await login(client, user), await login(client, user)];
    expect((await del(`/api/v2/users/${encodeURIComponent(user.userId)}/refresh-tokens`)).statusCode).toBe(
      204,
    );
    expect((await tokensOf(user)).json()).toEqual({ tokens: [] });
    for (const rt of rts) expect((await refresh(client, rt)).statusCode).toBe(403);
  });

  it('is reachable with the Management API’s own scopes, which the tenant’s Management API defines', async () => {
    const res = await get('/api/v2/resource-servers/' + encodeURIComponent(`${TEST_ISSUER}api/v2/`));
    expect(res.statusCode).toBe(403);
    const full = await t.managementToken();
    const rs = await api(t.app, {
      method: 'GET',
      url: `/api/v2/resource-servers/${encodeURIComponent(`${TEST_ISSUER}api/v2/`)}`,
      token: full,
    });
    const values = rs.json<{ scopes: { value: string }[] }>().scopes.map((s) => s.value);
    expect(values).toEqual(expect.arrayContaining(['read:refresh_tokens', 'delete:refresh_tokens']));
  });
});
