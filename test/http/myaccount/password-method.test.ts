import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { api, form } from '../../helpers/http.js';
import { me, myAccountFixture, problem, type MyAccountFixture } from '../../helpers/myaccount.js';

const METHODS = `${TEST_ISSUER}me/v1/authentication-methods`;
const NEW = `${METHODS}/password%7Cnew`;

interface PasswordStarted {
  id: string;
  auth_session: string;
  policy: Record<string, unknown>;
}

describe.each(testBackends())('My Account API password method on $name (spec 3.3, 3.4)', (backend) => {
  let t: TestApp;
  let f: MyAccountFixture;
  let connectionId: string;
  beforeAll(async () => {
    t = await buildTestApp(backend, {
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
    });
    f = await myAccountFixture(t);
    await f.activate();
    const found = await api(t.app, {
      method: 'GET',
      url: '/api/v2/connections?name=Username-Password-Authentication',
      token: await t.managementToken(),
    });
    connectionId = found.json<{ id: string }[]>()[0]?.id ?? '';
    const patched = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/connections/${connectionId}`,
      token: await t.managementToken(),
      body: {
        options: {
          passwordPolicy: 'good',
          password_history: { enable: true, size: 3 },
          password_no_personal_info: { enable: true },
        },
      },
    });
    expect(patched.statusCode).toBe(200);
    t.deps.lookups.invalidate();
  });
  afterAll(async () => {
    await t.close();
  });

  const signIn = (email: string, password: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        client_id: f.client.clientId,
        client_secret: f.client.clientSecret,
        username: email,
        password,
      }),
    });

  it('starts with the connection policy and sets the new password through it', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    const start = await me(t, 'POST', '/authentication-methods', token, {
      type: 'password',
      connection: 'Username-Password-Authentication',
      identity_user_id: user.userId,
    });
    expect(start.statusCode).toBe(202);
    expect(start.headers['location']).toBe(NEW);
    const started = start.json<PasswordStarted>();
    expect(started.id).toBe('password|new');
    expect(started.policy).toEqual({
      complexity: {
        min_length: 8,
        character_types: ['lowercase', 'uppercase', 'number', 'special'],
        character_type_rule: 'three_of_four',
        identical_characters: 'allow',
        sequential_characters: 'allow',
        max_length_exceeded: 'error',
      },
      profile_data: { active: true, blocked_fields: [] },
      history: { active: true, size: 3 },
      dictionary: { active: false, default: 'en_10k' },
    });

    const done = await me(t, 'POST', `${NEW}/verify`, token, {
      auth_session: started.auth_session,
      new_password: 'Brand-new-Secret-9',
    });
    expect(done.statusCode).toBe(201);
    const method = done.json<{ id: string; type: string; identity_user_id: string }>();
    expect(method).toMatchObject({ type: 'password', usage: ['primary'], identity_user_id: user.userId });
    expect(done.headers['location']).toBe(`${METHODS}/${encodeURIComponent(method.id)}`);
    expect((await signIn(user.email ?? '', 'Brand-new-Secret-9')).statusCode).toBe(200);
    expect((await signIn(user.email ?? '', 'Pass-word-123')).statusCode).toBe(403);
    // The auth_session was spent.
    const again = await me(t, 'POST', `${NEW}/verify`, token, {
      auth_session: started.auth_session,
      new_password: 'Another-Secret-77',
    });
    expect(again.json()).toEqual(
      problem(400, 'Bad Request', 'The auth_session is invalid, expired or already used.'),
    );
  });

  it('refuses what the policy refuses, and changes nothing', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    const attempt = async (newPassword: string) => {
      const start = await me(t, 'POST', '/authentication-methods', token, { type: 'password' });
      const { auth_session } = start.json<PasswordStarted>();
      return me(t, 'POST', `${NEW}/verify`, token, { auth_session, new_password: newPassword });
    };
    const weak = await attempt('short');
    expect(weak.statusCode).toBe(400);
    expect(weak.json<{ detail: string }>().detail).toBe('PasswordStrengthError: Password is too weak');
    const reused = await attempt('Pass-word-123');
    expect(reused.json<{ detail: string }>().detail).toBe(
      'PasswordHistoryError: Password has previously been used',
    );
    expect((await signIn(user.email ?? '', 'Pass-word-123')).statusCode).toBe(200);
  });

  it('checks the body and the method id', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    const foreign = await me(t, 'POST', '/authentication-methods', token, {
      type: 'password',
      identity_user_id: 'auth0|someone-else',
    });
    expect(foreign.json()).toEqual(
      problem(400, 'Bad Request', "The identity_user_id is not the user's identity."),
    );
    const start = await me(t, 'POST', '/authentication-methods', token, { type: 'password' });
    const { auth_session } = start.json<PasswordStarted>();
    const control = await me(t, 'POST', `${NEW}/verify`, token, {
      auth_session,
      new_password: 'Line\nbreak-Secret-1',
    });
    expect(control.statusCode).toBe(400);
    const missing = await me(t, 'POST', `${NEW}/verify`, token, { auth_session });
    expect(missing.json()).toEqual(
      problem(400, 'Bad Request', 'Payload validation error: new_password is required.'),
    );
    const passkeyWithPassword = await me(t, 'POST', `${METHODS}/passkey%7Cnew/verify`, token, {
      auth_session,
      new_password: 'Brand-new-Secret-9',
    });
    expect(passkeyWithPassword.statusCode).toBe(400);
  });
});
