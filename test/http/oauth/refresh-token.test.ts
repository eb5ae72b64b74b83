import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, jwtPayload } from '../../helpers/http.js';

interface Tokens {
  access_token: string;
  refresh_token?: string;
  scope?: string;
  id_token?: string;
}

describe.each(testBackends())('refresh tokens on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let audience: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    audience = (
      await make.api({ scopes: [{ value: 'read:a' }, { value: 'write:a' }], allowOfflineAccess: true })
    ).identifier;
  });
  afterAll(async () => {
    await t.close();
  });

  async function appAndUser(refresh: Record<string, unknown>, over: Partial<Client> = {}) {
    const client = await make.client({
      grantTypes: ['password', 'refresh_token'],
      settings: { refresh_token: refresh },
      ...over,
    });
    await make.enableConnection(client.clientId);
    const user = await make.user();
    return { client, user };
  }
  const token = (client: Client, fields: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { client_id: client.clientId, client_secret: client.clientSecret, ...fields },
    });
  const login = async (
    client: Client,
    email: string,
    scope = 'openid offline_access read:a write:a',
    aud = audience,
  ) =>
    token(client, {
      grant_type: 'password',
      username: email,
      password: 'Pass-word-123',
      audience: aud,
      scope,
    });
  const refresh = (client: Client, rt: string, scope?: string) =>
    token(client, {
      grant_type: 'refresh_token',
      refresh_token: rt,
      ...(scope !== undefined ? { scope } : {}),
    });

  it('is issued only with offline_access, an API that allows it and the refresh_token grant type', async () => {
    const { client, user } = await appAndUser({});
    const email = user.email ?? '';
    expect((await login(client, email)).json<Tokens>().refresh_token).toEqual(expect.any(String));
    expect((await login(client, email, 'openid read:a')).json<Tokens>()).not.toHaveProperty('refresh_token');
    const noOffline = (await make.api({ scopes: [{ value: 'x' }], allowOfflineAccess: false })).identifier;
    expect((await login(client, email, 'offline_access x', noOffline)).json<Tokens>()).not.toHaveProperty(
      'refresh_token',
    );
    const noGrantType = await make.client({ grantTypes: ['password'] });
    await make.enableConnection(noGrantType.clientId);
    expect((await login(noGrantType, email)).json<Tokens>()).not.toHaveProperty('refresh_token');
    const stored = await t.deps.storage.db.selectFrom('refresh_tokens').select(['token_hash']).execute();
    const issued = (await login(client, email)).json<Tokens>().refresh_token ?? '';
    expect(stored.map((r) => r.token_hash)).not.toContain(issued);
  });

  it('re-issues exactly the original scopes when scope is omitted, allows narrower, refuses wider', async () => {
    const { client, user } = await appAndUser({});
    const first = (await login(client, user.email ?? '', 'openid offline_access read:a')).json<Tokens>();
    const rt = first.refresh_token ?? '';
    const same = await refresh(client, rt);
    expect(same.statusCode).toBe(200);
    expect(same.json<Tokens>()).toMatchObject({
      scope: 'openid read:a offline_access',
      id_token: expect.any(String),
    });
    expect(jwtPayload(same.json<Tokens>().access_token)).toMatchObject({
      sub: user.userId,
      gty: 'refresh_token',
      scope: 'openid read:a offline_access',
    });
    expect(same.json<Tokens>()).not.toHaveProperty('refresh_token');
    const narrow = await refresh(client, rt, 'read:a');
    expect(narrow.json<Tokens>().scope).toBe('read:a');
    const wide = await refresh(client, rt, 'read:a write:a');
    expect(wide.statusCode).toBe(403);
    expect(wide.json()).toEqual({
      error: 'invalid_scope',
      error_description: 'The requested scope exceeds the scope originally granted.',
    });
  });

  it('rotates: each use returns a new token, the old one dies, reuse revokes the whole family', async () => {
    const { client, user } = await appAndUser({
      rotation_type: 'rotating',
      expiration_type: 'expiring',
      leeway: 0,
    });
    const rt1 = (await login(client, user.email ?? '')).json<Tokens>().refresh_token ?? '';
    const second = await refresh(client, rt1);
    const rt2 = second.json<Tokens>().refresh_token ?? '';
    expect(rt2).not.toBe(rt1);
    const rt3 = (await refresh(client, rt2)).json<Tokens>().refresh_token ?? '';
    const reuse = await refresh(client, rt1);
    expect(reuse.statusCode).toBe(403);
    expect(reuse.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Unknown or invalid refresh token.',
    });
    // The family is gone: even the newest token stopped working.
    expect((await refresh(client, rt3)).statusCode).toBe(403);
  });

  it('writes a rotation in one transaction: a failure half-way lets the client retry with the same token', async () => {
    const { client, user } = await appAndUser({ rotation_type: 'rotating', expiration_type: 'expiring' });
    const rt1 = (await login(client, user.email ?? '')).json<Tokens>().refresh_token ?? '';
    // A real failure inside the database, after the old token was marked rotated in the same transaction.
    await failRefreshTokenInserts(true);
    try {
      const failed = await refresh(client, rt1);
      expect(failed.statusCode).toBe(500);
      expect(failed.json()).toEqual({ error: 'server_error', error_description: 'internal server error' });
    } finally {
      await failRefreshTokenInserts(false);
    }
    const retried = await refresh(client, rt1);
    expect(retried.statusCode).toBe(200);
    const rt2 = retried.json<Tokens>().refresh_token ?? '';
    expect((await refresh(client, rt2)).statusCode).toBe(200);
  });

  /** Installs (or removes) a trigger that makes every insert into refresh_tokens fail. */
  async function failRefreshTokenInserts(on: boolean): Promise<void> {
    const db = t.deps.storage.db;
    if (backend.name === 'sqlite') {
      await (
        on
          ? sql`create trigger fail_rt before insert on refresh_tokens begin select raise(abort, 'injected'); end`
          : sql`drop trigger fail_rt`
      ).execute(db);
      return;
    }
    if (on) {
      await sql`create function fail_rt() returns trigger language plpgsql as $$ begin raise exception 'injected'; end $$`.execute(
        db,
      );
      await sql`create trigger fail_rt before insert on refresh_tokens for each row execute function fail_rt()`.execute(
        db,
      );
    } else {
      await sql`drop trigger fail_rt on refresh_tokens`.execute(db);
      await sql`drop function fail_rt()`.execute(db);
    }
  }

  it('tolerates reuse inside the leeway', async () => {
    const { client, user } = await appAndUser({
      rotation_type: 'rotating',
      expiration_type: 'expiring',
      leeway: 30,
    });
    const rt1 = (await login(client, user.email ?? '')).json<Tokens>().refresh_token ?? '';
    const rt2 = (await refresh(client, rt1)).json<Tokens>().refresh_token ?? '';
    t.clock.advance(10_000);
    const retry = await refresh(client, rt1);
    expect(retry.statusCode).toBe(200);
    expect((await refresh(client, rt2)).statusCode).toBe(200);
    t.clock.advance(60_000);
    expect((await refresh(client, rt1)).statusCode).toBe(403);
  });

  it('enforces absolute and idle expiry', async () => {
    const { client, user } = await appAndUser({
      rotation_type: 'non-rotating',
      expiration_type: 'expiring',
      token_lifetime: 3600,
      idle_token_lifetime: 600,
      infinite_token_lifetime: false,
      infinite_idle_token_lifetime: false,
    });
    const rt = (await login(client, user.email ?? '')).json<Tokens>().refresh_token ?? '';
    t.clock.advance(500_000);
    expect((await refresh(client, rt)).statusCode).toBe(200);
    t.clock.advance(500_000);
    expect((await refresh(client, rt)).statusCode).toBe(200);
    t.clock.advance(700_000);
    expect((await refresh(client, rt)).statusCode).toBe(403);

    // Used every 500 s the token never idles out, but dies at its absolute lifetime (3600 s).
    const rt2 = (await login(client, user.email ?? '')).json<Tokens>().refresh_token ?? '';
    const statuses: number[] = [];
    for (let i = 1; i <= 8; i++) {
      t.clock.advance(500_000);
      statuses.push((await refresh(client, rt2)).statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 403]);
  });

  it('keeps the absolute expiry of the first issue across rotations; idle expiry renews per use', async () => {
    const { client, user } = await appAndUser({
      rotation_type: 'rotating',
      expiration_type: 'expiring',
      token_lifetime: 3600,
      idle_token_lifetime: 1800,
      infinite_token_lifetime: false,
      infinite_idle_token_lifetime: false,
      leeway: 0,
    });
    let rt = (await login(client, user.email ?? '')).json<Tokens>().refresh_token ?? '';
    const statuses: number[] = [];
    let refused: unknown;
    for (let elapsed = 500; elapsed <= 4000; elapsed += 500) {
      t.clock.advance(500_000);
      const res = await refresh(client, rt);
      statuses.push(res.statusCode);
      if (res.statusCode === 200) rt = res.json<Tokens>().refresh_token ?? '';
      else refused = res.json();
    }
    // Each use is well inside the 1800 s idle lifetime; the family still dies 3600 s after the login.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 403]);
    expect(refused).toEqual({
      error: 'invalid_grant',
      error_description: 'Unknown or invalid refresh token.',
    });
  });

  it('refuses another client, a blocked user and an unknown token', async () => {
    const { client, user } = await appAndUser({});
    const rt = (await login(client, user.email ?? '')).json<Tokens>().refresh_token ?? '';
    const other = await make.client({ grantTypes: ['refresh_token'] });
    expect((await refresh(other, rt)).statusCode).toBe(403);
    expect((await refresh(client, 'made-up')).json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Unknown or invalid refresh token.',
    });
    await t.deps.store.users.update({ ...user, blocked: true });
    expect((await refresh(client, rt)).statusCode).toBe(401);
  });

  it('revokes through /oauth/revoke, answering 200 even for unknown tokens (RFC 7009)', async () => {
    const { client, user } = await appAndUser({});
    const rt = (await login(client, user.email ?? '')).json<Tokens>().refresh_token ?? '';
    const revoke = (tok: string) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        payload: { client_id: client.clientId, client_secret: client.clientSecret, token: tok },
      });
    expect((await revoke(rt)).statusCode).toBe(200);
    expect((await refresh(client, rt)).statusCode).toBe(403);
    expect((await revoke('unknown')).statusCode).toBe(200);
    const badAuth = await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { client_id: client.clientId, client_secret: 'wrong', token: rt },
    });
    expect(badAuth.statusCode).toBe(401);
  });

  it('lists consent grants and revokes refresh tokens when a grant is deleted', async () => {
    const { client, user } = await appAndUser({});
    const rt = (await login(client, user.email ?? '')).json<Tokens>().refresh_token ?? '';
    const mgmt = await t.managementToken();
    const list = await api(t.app, {
      method: 'GET',
      url: `/api/v2/grants?user_id=${encodeURIComponent(user.userId)}`,
      token: mgmt,
    });
    expect(list.json()).toEqual([
      {
        id: expect.any(String),
        clientID: client.clientId,
        user_id: user.userId,
        audience,
        scope: ['read:a', 'write:a'],
      },
    ]);
    const id = list.json<{ id: string }[]>()[0]?.id ?? '';
    expect(
      (await api(t.app, { method: 'DELETE', url: `/api/v2/grants/${id}`, token: mgmt })).statusCode,
    ).toBe(204);
    expect((await refresh(client, rt)).statusCode).toBe(403);
    expect(
      (
        await api(t.app, {
          method: 'GET',
          url: `/api/v2/grants?user_id=${encodeURIComponent(user.userId)}`,
          token: mgmt,
        })
      ).json(),
    ).toEqual([]);
  });
});
