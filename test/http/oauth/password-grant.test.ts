import bcrypt from 'bcryptjs';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form, jwtHeader, jwtPayload } from '../../helpers/http.js';

const PASSWORD = 'Pass-word-123';

describe.each(testBackends())('password grants on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let client: Client;
  let apiId: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    client = await make.client({
      appType: 'regular_web',
      grantTypes: ['password', 'http://auth0.com/oauth/grant-type/password-realm', 'refresh_token'],
      settings: { jwt_configuration: { lifetime_in_seconds: 600, alg: 'RS256' } },
    });
    await make.enableConnection(client.clientId);
    apiId = (await make.api({ scopes: [{ value: 'read:a' }, { value: 'write:a' }] })).identifier;
  });
  afterAll(async () => {
    await t.close();
  });

  const login = (
    fields: Record<string, string>,
    c: Client = client,
    from: { ip?: string; headers?: Record<string, string> } = {},
    app = t.app,
  ) =>
    app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({ grant_type: 'password', client_id: c.clientId, client_secret: c.clientSecret, ...fields }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...from.headers },
      ...(from.ip !== undefined ? { remoteAddress: from.ip } : {}),
    });

  it('issues an access token and an ID token for email + password', async () => {
    const user = await make.user({ email: 'Jane.Doe@Example.com', name: 'Jane Doe', nickname: 'jane' });
    const res = await login({
      username: 'jane.doe@example.com',
      password: PASSWORD,
      audience: apiId,
      scope: 'openid profile email read:a',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{
      access_token: string;
      id_token: string;
      scope: string;
      expires_in: number;
      token_type: string;
    }>();
    expect(body).toEqual({
      access_token: expect.any(String),
      id_token: expect.any(String),
      scope: 'openid profile email read:a',
      expires_in: 86400,
      token_type: 'Bearer',
    });
    const now = Math.floor(t.clock.now() / 1000);
    expect(jwtPayload(body.access_token)).toEqual({
      iss: TEST_ISSUER,
      sub: user.userId,
      aud: [apiId, `${TEST_ISSUER}userinfo`],
      iat: now,
      exp: now + 86400,
      scope: 'openid profile email read:a',
      azp: client.clientId,
      gty: 'password',
    });
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    const { payload } = await jwtVerify(body.id_token, createLocalJWKSet(jwks as never), {
      issuer: TEST_ISSUER,
      audience: client.clientId,
    });
    expect(jwtHeader(body.id_token)['alg']).toBe('RS256');
    expect(payload).toEqual({
      iss: TEST_ISSUER,
      sub: user.userId,
      aud: client.clientId,
      iat: now,
      exp: now + 600,
      name: 'Jane Doe',
      nickname: 'jane',
      given_name: 'Test',
      family_name: 'User',
      picture: 'https://example.com/p.png',
      updated_at: user.updatedAt,
      email: 'Jane.Doe@Example.com',
      email_verified: true,
    });
    const stored = await t.deps.store.users.findById(user.userId);
    expect(stored).toMatchObject({ loginsCount: 1, lastIp: '127.0.0.1', lastLogin: expect.any(String) });

    const info = await t.app.inject({
      method: 'GET',
      url: '/userinfo',
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(info.statusCode).toBe(200);
    expect(info.json()).toEqual({
      sub: user.userId,
      name: 'Jane Doe',
      nickname: 'jane',
      given_name: 'Test',
      family_name: 'User',
      picture: 'https://example.com/p.png',
      updated_at: user.updatedAt,
      email: 'Jane.Doe@Example.com',
      email_verified: true,
    });
  });

  it('signs ID tokens with HS256 when the client says so', async () => {
    const hs = await make.client({
      grantTypes: ['password'],
      settings: { jwt_configuration: { alg: 'HS256' } },
    });
    await make.enableConnection(hs.clientId);
    await make.user({ email: 'hs@example.com' });
    const res = await login({ username: 'hs@example.com', password: PASSWORD, scope: 'openid' }, hs);
    const idToken = res.json<{ id_token: string }>().id_token;
    const { protectedHeader } = await jwtVerify(idToken, new TextEncoder().encode(hs.clientSecret), {
      audience: hs.clientId,
    });
    expect(protectedHeader.alg).toBe('HS256');
  });

  it('answers 403 invalid_grant "Wrong email or password." for a wrong password or unknown user', async () => {
    await make.user({ email: 'wrong@example.com' });
    for (const fields of [
      { username: 'wrong@example.com', password: 'nope' },
      { username: 'ghost@example.com', password: PASSWORD },
    ]) {
      const res = await login(fields);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ error: 'invalid_grant', error_description: 'Wrong email or password.' });
    }
  });

  it('refuses blocked users with 401 unauthorized', async () => {
    await make.user({ email: 'blocked@example.com', blocked: true });
    const res = await login({ username: 'blocked@example.com', password: PASSWORD });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'unauthorized', error_description: 'user is blocked' });
    // Not a client-authentication failure, so no Basic challenge.
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('blocks a user+IP after 10 failures until the block is lifted through /user-blocks', async () => {
    const user = await make.user({ email: 'brute@example.com' });
    const headers = { ip: '203.0.113.9' };
    for (let i = 0; i < 10; i++)
      expect(
        (await login({ username: 'brute@example.com', password: `bad-${i}` }, client, headers)).statusCode,
      ).toBe(403);
    const blocked = await login({ username: 'brute@example.com', password: PASSWORD }, client, headers);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ error: 'too_many_attempts' });
    // Another IP is not blocked.
    expect(
      (await login({ username: 'brute@example.com', password: PASSWORD }, client, { ip: '198.51.100.1' }))
        .statusCode,
    ).toBe(200);
    const token = await t.managementToken();
    const blocks = await api(t.app, {
      method: 'GET',
      url: `/api/v2/user-blocks/${encodeURIComponent(user.userId)}`,
      token,
    });
    expect(blocks.json()).toEqual({
      blocked_for: [
        {
          identifier: 'brute@example.com',
          ip: '203.0.113.9',
          connection: 'Username-Password-Authentication',
        },
      ],
    });
    expect(
      (
        await api(t.app, {
          method: 'DELETE',
          url: `/api/v2/user-blocks/${encodeURIComponent(user.userId)}`,
          token,
        })
      ).statusCode,
    ).toBe(204);
    expect(
      (await login({ username: 'brute@example.com', password: PASSWORD }, client, headers)).statusCode,
    ).toBe(200);
  });

  it('keys the block on the peer address, not on a spoofable X-Forwarded-For (LATCHKEY_TRUST_PROXY off)', async () => {
    await make.user({ email: 'spoof@example.com' });
    for (let i = 0; i < 10; i++) {
      const from = { ip: '203.0.113.11', headers: { 'x-forwarded-for': `198.51.100.${i}` } };
      expect((await login({ username: 'spoof@example.com', password: 'bad' }, client, from)).statusCode).toBe(
        403,
      );
    }
    const from = { ip: '203.0.113.11', headers: { 'x-forwarded-for': '198.51.100.99' } };
    expect(
      (await login({ username: 'spoof@example.com', password: PASSWORD }, client, from)).statusCode,
    ).toBe(429);
  });

  it('believes X-Forwarded-For from a trusted proxy (LATCHKEY_TRUST_PROXY)', async () => {
    const proxied = await buildTestApp(backend, { trustProxy: '127.0.0.1' });
    try {
      const other = createFactories(proxied.deps);
      const c = await other.client({ grantTypes: ['password'] });
      await other.enableConnection(c.clientId);
      await other.user({ email: 'proxied@example.com' });
      const via = (ip: string) => ({ ip: '127.0.0.1', headers: { 'x-forwarded-for': ip } });
      for (let i = 0; i < 10; i++)
        await login(
          { username: 'proxied@example.com', password: 'bad' },
          c,
          via('203.0.113.12'),
          proxied.app,
        );
      expect(
        (
          await login(
            { username: 'proxied@example.com', password: PASSWORD },
            c,
            via('203.0.113.12'),
            proxied.app,
          )
        ).statusCode,
      ).toBe(429);
      expect(
        (
          await login(
            { username: 'proxied@example.com', password: PASSWORD },
            c,
            via('203.0.113.13'),
            proxied.app,
          )
        ).statusCode,
      ).toBe(200);
    } finally {
      await proxied.close();
    }
  });

  it('lists and lifts blocks by identifier through /user-blocks?identifier=', async () => {
    await make.user({ email: 'ident@example.com', username: 'ident' });
    const from = { ip: '203.0.113.14' };
    for (let i = 0; i < 10; i++) await login({ username: 'ident', password: 'bad' }, client, from);
    expect(
      (await login({ username: 'ident@example.com', password: PASSWORD }, client, from)).statusCode,
    ).toBe(429);
    const token = await t.managementToken();
    for (const identifier of ['ident', 'IDENT@example.com']) {
      const listed = await api(t.app, {
        method: 'GET',
        url: `/api/v2/user-blocks?identifier=${encodeURIComponent(identifier)}`,
        token,
      });
      expect(listed.json()).toEqual({
        blocked_for: [
          {
            identifier: 'ident@example.com',
            ip: '203.0.113.14',
            connection: 'Username-Password-Authentication',
          },
        ],
      });
    }
    const nobody = await api(t.app, { method: 'GET', url: '/api/v2/user-blocks?identifier=nobody', token });
    expect(nobody.json()).toEqual({ blocked_for: [] });
    const missing = await api(t.app, { method: 'GET', url: '/api/v2/user-blocks', token });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ errorCode: 'invalid_query_string' });
    const lifted = await api(t.app, { method: 'DELETE', url: '/api/v2/user-blocks?identifier=ident', token });
    expect(lifted.statusCode).toBe(204);
    expect((await login({ username: 'ident', password: PASSWORD }, client, from)).statusCode).toBe(200);
  });

  it('lets the block expire on its own', async () => {
    await make.user({ email: 'expire@example.com' });
    const headers = { ip: '203.0.113.10' };
    for (let i = 0; i < 10; i++)
      await login({ username: 'expire@example.com', password: 'bad' }, client, headers);
    expect(
      (await login({ username: 'expire@example.com', password: PASSWORD }, client, headers)).statusCode,
    ).toBe(429);
    t.clock.advance(16 * 60 * 1000);
    expect(
      (await login({ username: 'expire@example.com', password: PASSWORD }, client, headers)).statusCode,
    ).toBe(200);
  });

  it('a connection change through the Management API applies to the next sign-in (cached connections are cleared)', async () => {
    const token = await t.managementToken();
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token,
      body: { name: 'switchable-db', strategy: 'auth0', enabled_clients: [client.clientId] },
    });
    const id = created.json<{ id: string }>().id;
    await make.user({ connection: 'switchable-db', email: 'switch@example.com' });
    const viaRealm = () =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'http://auth0.com/oauth/grant-type/password-realm',
          realm: 'switchable-db',
          username: 'switch@example.com',
          password: PASSWORD,
          client_id: client.clientId,
          client_secret: client.clientSecret,
        },
      });
    expect((await viaRealm()).statusCode).toBe(200);
    const off = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/connections/${id}/clients`,
      token,
      body: [{ client_id: client.clientId, status: false }],
    });
    expect(off.statusCode).toBe(204);
    const refused = await viaRealm();
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'access_denied' });
  });

  it('uses the realm for password-realm and the default directory for password', async () => {
    const token = await t.managementToken();
    await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token,
      body: {
        name: 'partners-db',
        strategy: 'auth0',
        enabled_clients: [client.clientId],
        options: { requires_username: true },
      },
    });
    await make.user({ connection: 'partners-db', email: 'partner@example.com', username: 'partner1' });
    const realm = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'http://auth0.com/oauth/grant-type/password-realm',
        realm: 'partners-db',
        username: 'PARTNER1',
        password: PASSWORD,
        client_id: client.clientId,
        client_secret: client.clientSecret,
      },
    });
    expect(realm.statusCode).toBe(200);
    expect((await login({ username: 'partner@example.com', password: PASSWORD })).statusCode).toBe(403);
    const missingRealm = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'http://auth0.com/oauth/grant-type/password-realm',
        username: 'x',
        password: 'y',
        client_id: client.clientId,
        client_secret: client.clientSecret,
      },
    });
    expect(missingRealm.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Missing required parameter: realm',
    });
  });

  it('refuses a connection that is not enabled for the client', async () => {
    const other = await make.client({ grantTypes: ['password'] });
    await make.user({ email: 'notenabled@example.com' });
    const res = await login({ username: 'notenabled@example.com', password: PASSWORD }, other);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'access_denied' });
  });

  it('verifies a bcrypt hash imported through custom_password_hash and rehashes it with argon2id on success', async () => {
    const imported = await api(t.app, {
      method: 'POST',
      url: '/api/v2/users',
      token: await t.managementToken(),
      body: {
        connection: 'Username-Password-Authentication',
        email: 'legacy@example.com',
        custom_password_hash: { algorithm: 'bcrypt', hash: { value: await bcrypt.hash(PASSWORD, 4) } },
      },
    });
    expect(imported.statusCode).toBe(201);
    const userId = imported.json<{ user_id: string }>().user_id;
    expect((await login({ username: 'legacy@example.com', password: 'wrong' })).json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Wrong email or password.',
    });
    expect((await t.deps.store.users.findById(userId))?.identities[0]?.passwordHash).toMatch(/^\$2b\$04\$/);
    expect((await login({ username: 'legacy@example.com', password: PASSWORD })).statusCode).toBe(200);
    expect((await t.deps.store.users.findById(userId))?.identities[0]?.passwordHash).toMatch(/^\$argon2id\$/);
    expect((await login({ username: 'legacy@example.com', password: PASSWORD })).statusCode).toBe(200);
  });

  it('rejects /userinfo without a valid token and for tokens without openid', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/userinfo' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer /);
    await make.user({ email: 'noopenid@example.com' });
    const res = await login({
      username: 'noopenid@example.com',
      password: PASSWORD,
      audience: apiId,
      scope: 'read:a',
    });
    const info = await t.app.inject({
      method: 'GET',
      url: '/userinfo',
      headers: { authorization: `Bearer ${res.json<{ access_token: string }>().access_token}` },
    });
    // Without openid the token's only audience is the API, so it is not a userinfo token at all.
    expect(info.statusCode).toBe(401);
    expect(info.json()).toEqual({ error: 'invalid_token', error_description: `Bad audience: ${apiId}` });
    const userinfoOnly = await login({
      username: 'noopenid@example.com',
      password: PASSWORD,
      scope: 'profile',
    });
    const noOpenid = await t.app.inject({
      method: 'GET',
      url: '/userinfo',
      headers: { authorization: `Bearer ${userinfoOnly.json<{ access_token: string }>().access_token}` },
    });
    expect(noOpenid.statusCode).toBe(403);
    expect(noOpenid.json()).toEqual({
      error: 'insufficient_scope',
      error_description: 'The token was not granted openid',
    });
  });

  it.each([
    [{ password: PASSWORD }, 'Missing required parameter: username'],
    [{ username: 'a@b.c' }, 'Missing required parameter: password'],
  ])('answers 400 invalid_request for %j', async (fields, description) => {
    const res = await login(fields);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: description });
  });
});

describe.each(testBackends())('user tokens for the Management API (seed 003) on $name', (backend) => {
  it('carry only current-user scopes and act only on their own user; third-party apps get nothing', async () => {
    const t = await buildTestApp(backend);
    try {
      const make = createFactories(t.deps);
      const app = await make.client({ grantTypes: ['password'] });
      await make.enableConnection(app.clientId);
      const me = await make.user({ email: 'me@example.com' });
      const other = await make.user({ email: 'other@example.com' });
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'password',
          username: 'me@example.com',
          password: PASSWORD,
          audience: `${TEST_ISSUER}api/v2/`,
          scope: 'read:current_user update:current_user_metadata read:users delete:users',
          client_id: app.clientId,
          client_secret: app.clientSecret,
        },
      });
      expect(res.statusCode).toBe(200);
      const { access_token: token, scope } = res.json<{ access_token: string; scope: string }>();
      expect(scope).toBe('read:current_user update:current_user_metadata');
      expect(jwtPayload(token)).toMatchObject({ aud: `${TEST_ISSUER}api/v2/`, sub: me.userId });
      expect(
        (await api(t.app, { method: 'GET', url: `/api/v2/users/${encodeURIComponent(me.userId)}`, token }))
          .statusCode,
      ).toBe(200);
      expect(
        (await api(t.app, { method: 'GET', url: `/api/v2/users/${encodeURIComponent(other.userId)}`, token }))
          .statusCode,
      ).toBe(403);
      expect((await api(t.app, { method: 'GET', url: '/api/v2/users', token })).statusCode).toBe(403);

      const third = await make.client({ grantTypes: ['password'], isFirstParty: false });
      await make.enableConnection(third.clientId);
      const refused = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'password',
          username: 'me@example.com',
          password: PASSWORD,
          audience: `${TEST_ISSUER}api/v2/`,
          scope: 'read:current_user',
          client_id: third.clientId,
          client_secret: third.clientSecret,
        },
      });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ error: 'access_denied' });
    } finally {
      await t.close();
    }
  });
});
