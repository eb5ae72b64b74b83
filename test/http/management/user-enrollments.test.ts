import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { api, form } from '../../helpers/http.js';
import { me, myAccountFixture, type MyAccountFixture } from '../../helpers/myaccount.js';

const CURRENT_USER = [
  'read:current_user',
  'delete:current_user_metadata',
  'update:current_user_metadata',
] as const;

interface Enrollment {
  id: string;
  status: string;
  type: string;
  auth_method: string;
}

// Seed 003: a user's second factors through the Guardian-era endpoints, with both scope families.
describe.each(testBackends())('Management API enrollments on $name (seed 003)', (backend) => {
  let t: TestApp;
  let f: MyAccountFixture;
  beforeAll(async () => {
    t = await buildTestApp(backend, {
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
    });
    f = await myAccountFixture(t);
    await f.activate();
    await f.make.grant({
      clientId: f.client.clientId,
      audience: MGMT_AUDIENCE,
      subjectType: 'user',
      scope: [...CURRENT_USER],
    });
    for (const name of ['otp', 'recovery-code']) {
      const res = await api(t.app, {
        method: 'PUT',
        url: `/api/v2/guardian/factors/${name}`,
        token: await t.managementToken(),
        body: { enabled: true },
      });
      expect(res.statusCode).toBe(200);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  /** The user's own Management API token from the password grant, as seed 003 describes. */
  const userToken = async (user: User, scopes: readonly string[] = CURRENT_USER) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        client_id: f.client.clientId,
        client_secret: f.client.clientSecret,
        username: user.email ?? '',
        password: 'Pass-word-123',
        audience: MGMT_AUDIENCE,
        scope: scopes.join(' '),
      }),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ access_token: string }>().access_token;
  };

  /** A user with a confirmed TOTP app and a recovery code, enrolled through the My Account API. */
  async function enrolledUser(): Promise<{ user: User; totpId: string; recoveryId: string }> {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    const started = await me(t, 'POST', '/authentication-methods', token, { type: 'totp' });
    const { id, auth_session, manual_input_code } = started.json<{
      id: string;
      auth_session: string;
      manual_input_code: string;
    }>();
    const otp_code = await generate({ secret: manual_input_code, epoch: Math.floor(t.clock.now() / 1000) });
    const verified = await me(
      t,
      'POST',
      `${TEST_ISSUER}me/v1/authentication-methods/${encodeURIComponent(id)}/verify`,
      token,
      { auth_session, otp_code },
    );
    expect(verified.statusCode, verified.body).toBe(201);
    const recovery = await me(t, 'POST', '/authentication-methods', token, { type: 'recovery-code' });
    const r = recovery.json<{ id: string; auth_session: string }>();
    const confirmed = await me(
      t,
      'POST',
      `${TEST_ISSUER}me/v1/authentication-methods/${encodeURIComponent(r.id)}/verify`,
      token,
      { auth_session: r.auth_session },
    );
    expect(confirmed.statusCode).toBe(201);
    return { user, totpId: id, recoveryId: r.id };
  }

  const enrollments = (userId: string, token: string) =>
    api(t.app, { method: 'GET', url: `/api/v2/users/${encodeURIComponent(userId)}/enrollments`, token });

  it('lists the user’s own enrollments with read:current_user, and nobody else’s', async () => {
    const { user, totpId } = await enrolledUser();
    const other = await enrolledUser();
    const token = await userToken(user);
    const own = await enrollments(user.userId, token);
    expect(own.statusCode).toBe(200);
    expect(own.json<Enrollment[]>()).toEqual([
      expect.objectContaining({
        id: totpId,
        status: 'confirmed',
        type: 'authenticator',
        auth_method: 'authenticator',
      }),
    ]);
    const foreign = await enrollments(other.user.userId, token);
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json<{ message: string }>().message).toBe(
      'User to be acted on does not match subject in bearer token.',
    );
    // read:users acts on anyone.
    const admin = await enrollments(other.user.userId, await t.managementTokenWith(['read:users']));
    expect(admin.json<Enrollment[]>().map((e) => e.id)).toEqual([other.totpId]);
  });

  it('removes the authenticator app with delete:current_user_metadata on oneself, update:users on anyone', async () => {
    const { user } = await enrolledUser();
    const other = await enrolledUser();
    const token = await userToken(user);
    const url = (id: string) => `/api/v2/users/${encodeURIComponent(id)}/multifactor/google-authenticator`;
    expect((await api(t.app, { method: 'DELETE', url: url(other.user.userId), token })).statusCode).toBe(403);
    expect((await api(t.app, { method: 'DELETE', url: url(user.userId), token })).statusCode).toBe(204);
    expect((await enrollments(user.userId, token)).json()).toEqual([]);
    const admin = await t.managementTokenWith(['update:users', 'read:users']);
    expect(
      (await api(t.app, { method: 'DELETE', url: url(other.user.userId), token: admin })).statusCode,
    ).toBe(204);
    expect((await enrollments(other.user.userId, admin)).json()).toEqual([]);
    // The My Account API no longer lists the app either.
    const methods = await me(t, 'GET', '/authentication-methods?type=totp', await f.tokenFor(user));
    expect(methods.json()).toEqual({ authentication_methods: [] });
    const unknown = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}/multifactor/sms`,
      token: admin,
    });
    expect(unknown.statusCode).toBe(400);
  });

  it('deletes one enrollment, then every authenticator, with delete:guardian_enrollments', async () => {
    const { user, totpId } = await enrolledUser();
    const token = await t.managementTokenWith(['delete:guardian_enrollments', 'read:users']);
    const one = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/guardian/enrollments/${encodeURIComponent(totpId)}`,
      token,
    });
    expect(one.statusCode).toBe(204);
    const again = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/guardian/enrollments/${encodeURIComponent(totpId)}`,
      token,
    });
    expect(again.statusCode).toBe(404);
    const all = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}/authenticators`,
      token,
    });
    expect(all.statusCode).toBe(204);
    const listed = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}/authentication-methods`,
      token: await t.managementTokenWith(['read:authentication_methods']),
    });
    expect(listed.json()).toEqual([]);
    const missing = await api(t.app, {
      method: 'DELETE',
      url: '/api/v2/users/auth0%7Cnobody/authenticators',
      token,
    });
    expect(missing.statusCode).toBe(404);
  });

  it('regenerates the recovery code: a new code replaces the old one', async () => {
    const { user, recoveryId } = await enrolledUser();
    const res = await api(t.app, {
      method: 'POST',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}/recovery-code-regeneration`,
      token: await t.managementTokenWith(['update:users']),
    });
    expect(res.statusCode).toBe(200);
    const { recovery_code } = res.json<{ recovery_code: string }>();
    expect(recovery_code).toMatch(/^[A-Z0-9]{24}$/);
    const methods = await me(t, 'GET', '/authentication-methods?type=recovery-code', await f.tokenFor(user));
    const listed = methods.json<{ authentication_methods: { id: string }[] }>().authentication_methods;
    expect(listed).toHaveLength(1);
    expect(listed[0]?.id).not.toBe(recoveryId);
  });
});
