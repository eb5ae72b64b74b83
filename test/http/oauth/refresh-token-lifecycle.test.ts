import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { hashRefreshToken } from '../../../src/oauth/tokens/user-tokens.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api } from '../../helpers/http.js';

interface Tokens {
  access_token: string;
  refresh_token?: string;
}

const DAY = 86_400_000;
const UNKNOWN = { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' };
// What POST /api/v2/clients stores when no refresh_token settings are sent.
const AUTH0_CLIENT_DEFAULT = {
  rotation_type: 'non-rotating',
  expiration_type: 'non-expiring',
  leeway: 0,
  token_lifetime: 2_592_000,
  infinite_token_lifetime: true,
  idle_token_lifetime: 1_296_000,
  infinite_idle_token_lifetime: true,
};

describe.each(testBackends())('refresh tokens end when they should on $name (issue 9)', (backend) => {
  let t: TestApp;
  let make: Factories;
  let audience: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    audience = (await make.api({ scopes: [{ value: 'read:a' }], allowOfflineAccess: true })).identifier;
  });
  afterAll(async () => {
    await t.close();
  });

  async function appFor(over: Partial<Client> = {}): Promise<Client> {
    const client = await make.client({
      grantTypes: ['password', 'refresh_token'],
      settings: { refresh_token: AUTH0_CLIENT_DEFAULT },
      ...over,
    });
    await make.enableConnection(client.clientId);
    return client;
  }
  const credentials = (client: Client) =>
    client.tokenEndpointAuthMethod === 'none'
      ? { client_id: client.clientId }
      : { client_id: client.clientId, client_secret: client.clientSecret };
  const token = (client: Client, fields: Record<string, string>) =>
    t.app.inject({ method: 'POST', url: '/oauth/token', payload: { ...credentials(client), ...fields } });
  const login = async (
    client: Client,
    user: User,
    scope = 'openid offline_access read:a',
    aud = audience,
  ) => {
    const res = await token(client, {
      grant_type: 'password',
      username: user.email ?? '',
      password: 'Pass-word-123',
      ...(aud === '' ? {} : { audience: aud }),
      scope,
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Tokens>().refresh_token ?? '';
  };
  const refresh = (client: Client, rt: string) =>
    token(client, { grant_type: 'refresh_token', refresh_token: rt });
  /** A Management token that is fresh whatever the clock did. */
  const admin = () => t.managementTokenWith(['update:users', 'read:grants', 'delete:grants']);
  const patchUser = async (user: User, body: object) =>
    api(t.app, {
      method: 'PATCH',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      token: await admin(),
      body,
    });

  describe('public clients (RFC 9700 §4.14.2)', () => {
    const publicApp = () => appFor({ appType: 'native', tokenEndpointAuthMethod: 'none' });

    it('rotate every refresh token even when the client is set to non-rotating, and a reuse ends the family', async () => {
      const client = await publicApp();
      const user = await make.user();
      const rt1 = await login(client, user);
      const second = await refresh(client, rt1);
      expect(second.statusCode).toBe(200);
      const rt2 = second.json<Tokens>().refresh_token;
      expect(rt2).toEqual(expect.any(String));
      expect(rt2).not.toBe(rt1);
      // The observed attack: the same token presented again.
      const replay = await refresh(client, rt1);
      expect(replay.statusCode).toBe(403);
      expect(replay.json()).toEqual(UNKNOWN);
      expect((await refresh(client, rt2 ?? '')).json()).toEqual(UNKNOWN);
    });

    it('expire after Auth0’s default 15 days without use', async () => {
      const client = await publicApp();
      const rt = await login(client, await make.user());
      t.clock.advance(15 * DAY + 1000);
      const res = await refresh(client, rt);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(UNKNOWN);
    });

    it('expire 30 days after the sign-in however often they rotate (Auth0’s default absolute lifetime)', async () => {
      const client = await publicApp();
      let rt = await login(client, await make.user());
      const statuses: number[] = [];
      for (let day = 10; day <= 40; day += 10) {
        t.clock.advance(10 * DAY);
        const res = await refresh(client, rt);
        statuses.push(res.statusCode);
        if (res.statusCode === 200) rt = res.json<Tokens>().refresh_token ?? '';
      }
      expect(statuses).toEqual([200, 200, 403, 403]);
    });

    it('bound tokens issued before the rule as if issued under it: rotated on use, dead after 30 days', async () => {
      const client = await publicApp();
      const user = await make.user();
      const now = Math.floor(t.clock.now() / 1000);
      const legacy = (id: string, createdAt: number) =>
        t.deps.store.refreshTokens.insert({
          id,
          tokenHash: hashRefreshToken(id),
          familyId: `rtf_${id}`,
          userId: user.userId,
          clientId: client.clientId,
          audience,
          scope: ['openid', 'read:a', 'offline_access'],
          rotating: false,
          createdAt,
          expiresAt: undefined,
          idleExpiresAt: undefined,
          lastUsedAt: undefined,
          rotatedAt: undefined,
          revokedAt: undefined,
          revokedReason: undefined,
          device: {
            initialIp: undefined,
            initialUserAgent: undefined,
            lastIp: undefined,
            lastUserAgent: undefined,
          },
        });
      await legacy(`rt_old_${String(now)}`, now - 31 * 86_400);
      expect((await refresh(client, `rt_old_${String(now)}`)).json()).toEqual(UNKNOWN);

      await legacy(`rt_recent_${String(now)}`, now - 86_400);
      const exchanged = await refresh(client, `rt_recent_${String(now)}`);
      expect(exchanged.statusCode).toBe(200);
      const rotated = exchanged.json<Tokens>().refresh_token ?? '';
      expect(rotated).not.toBe('');
      expect((await refresh(client, `rt_recent_${String(now)}`)).json()).toEqual(UNKNOWN);
      expect((await refresh(client, rotated)).json()).toEqual(UNKNOWN);
    });

    it('leave confidential clients on their own settings (non-rotating stays reusable)', async () => {
      const client = await appFor();
      const rt = await login(client, await make.user());
      for (let i = 0; i < 3; i += 1) {
        const res = await refresh(client, rt);
        expect(res.statusCode).toBe(200);
        expect(res.json()).not.toHaveProperty('refresh_token');
      }
    });
  });

  describe('events that end them', () => {
    it('an administrator’s password change revokes every refresh token of the user, and only of that user', async () => {
      const client = await appFor();
      const other = await appFor();
      const user = await make.user();
      const bystander = await make.user();
      const rtA = await login(client, user);
      const rtB = await login(other, user, 'openid offline_access', '');
      const kept = await login(client, bystander);
      const patched = await patchUser(user, { password: 'New-pass-word-456' });
      expect(patched.statusCode).toBe(200);
      expect((await refresh(client, rtA)).json()).toEqual(UNKNOWN);
      expect((await refresh(other, rtB)).json()).toEqual(UNKNOWN);
      expect((await refresh(client, kept)).statusCode).toBe(200);
    });

    it('a block revokes them, so unblocking does not bring the old tokens back', async () => {
      const client = await appFor();
      const user = await make.user();
      const rt = await login(client, user);
      expect((await patchUser(user, { blocked: true })).statusCode).toBe(200);
      expect((await patchUser(user, { blocked: false })).statusCode).toBe(200);
      const res = await refresh(client, rt);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual(UNKNOWN);
      // Signing in again works: the user is unblocked, only the old tokens are gone.
      expect(await login(client, user)).toEqual(expect.any(String));
    });

    it('revokes in the same transaction as the change: when revoking fails, the password stays the old one', async () => {
      const client = await appFor();
      const user = await make.user();
      const rt = await login(client, user);
      await failRefreshTokenUpdates(true);
      try {
        const res = await patchUser(user, { password: 'New-pass-word-456' });
        expect(res.statusCode).toBe(500);
      } finally {
        await failRefreshTokenUpdates(false);
      }
      expect((await refresh(client, rt)).statusCode).toBe(200);
      expect(await login(client, user)).toEqual(expect.any(String));
    });

    it('deleting a grant revokes every refresh token the user gave that application, with or without a grant row', async () => {
      const client = await appFor();
      const other = await appFor();
      const user = await make.user();
      const withGrant = await login(client, user);
      // A login asking only `openid offline_access` leaves no grant row.
      const oidcOnly = await login(client, user, 'openid offline_access', '');
      const elsewhere = await login(other, user);
      const token = await admin();
      const grants = await api(t.app, {
        method: 'GET',
        url: `/api/v2/grants?user_id=${encodeURIComponent(user.userId)}&client_id=${client.clientId}`,
        token,
      });
      const [grant] = grants.json<{ id: string }[]>();
      expect(grant).toBeDefined();
      const deleted = await api(t.app, { method: 'DELETE', url: `/api/v2/grants/${grant?.id ?? ''}`, token });
      expect(deleted.statusCode).toBe(204);
      expect((await refresh(client, withGrant)).json()).toEqual(UNKNOWN);
      expect((await refresh(client, oidcOnly)).json()).toEqual(UNKNOWN);
      expect((await refresh(other, elsewhere)).statusCode).toBe(200);
    });

    it('deleting a user’s grants revokes all of the user’s refresh tokens, those without a grant row too', async () => {
      const client = await appFor();
      const user = await make.user();
      const oidcOnly = await login(client, user, 'openid offline_access', '');
      const token = await admin();
      const url = `/api/v2/grants?user_id=${encodeURIComponent(user.userId)}`;
      expect((await api(t.app, { method: 'GET', url, token })).json()).toEqual([]);
      expect((await api(t.app, { method: 'DELETE', url, token })).statusCode).toBe(204);
      expect((await refresh(client, oidcOnly)).json()).toEqual(UNKNOWN);
    });
  });

  /** Installs (or removes) a trigger that makes every update of refresh_tokens fail inside the database. */
  async function failRefreshTokenUpdates(on: boolean): Promise<void> {
    const db = t.deps.storage.db;
    if (backend.name === 'sqlite') {
      await (
        on
          ? sql`create trigger fail_rt_update before update on refresh_tokens begin select raise(abort, 'injected'); end`
          : sql`drop trigger fail_rt_update`
      ).execute(db);
      return;
    }
    if (on) {
      await sql`create function fail_rt_update() returns trigger language plpgsql as $$ begin raise exception 'injected'; end $$`.execute(
        db,
      );
      await sql`create trigger fail_rt_update before update on refresh_tokens for each row execute function fail_rt_update()`.execute(
        db,
      );
    } else {
      await sql`drop trigger fail_rt_update on refresh_tokens`.execute(db);
      await sql`drop function fail_rt_update()`.execute(db);
    }
  }
});
