import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';
import { me, myAccountFixture, problem, type MyAccountFixture } from '../../helpers/myaccount.js';

const METHODS = `${TEST_ISSUER}me/v1/authentication-methods`;
const locationOf = (id: string) => `${METHODS}/${encodeURIComponent(id)}`;

interface TotpStarted {
  id: string;
  auth_session: string;
  barcode_uri: string;
  manual_input_code: string;
}
interface RecoveryStarted {
  id: string;
  auth_session: string;
  recovery_code: string;
}

const WRONG_CODE = problem(400, 'Bad Request', 'The otp_code is invalid or was already used.');
const INVALID_SESSION = problem(400, 'Bad Request', 'The auth_session is invalid, expired or already used.');

describe.each(testBackends())('My Account API totp and recovery-code on $name (spec 3.1–3.4)', (backend) => {
  let t: TestApp;
  let f: MyAccountFixture;
  beforeAll(async () => {
    t = await buildTestApp(backend, {
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
    });
    f = await myAccountFixture(t);
    await f.activate();
    await factor('otp', true);
    await factor('recovery-code', true);
  });
  afterAll(async () => {
    await t.close();
  });

  async function factor(name: string, enabled: boolean): Promise<void> {
    const res = await api(t.app, {
      method: 'PUT',
      url: `/api/v2/guardian/factors/${name}`,
      token: await t.managementToken(),
      body: { enabled },
    });
    expect(res.statusCode).toBe(200);
  }

  /** The code an authenticator app shows at the fake clock's time, plus `steps` periods; otplib, not otpauth. */
  const codeOf = (secret: string, steps = 0) =>
    generate({ secret, epoch: Math.floor(t.clock.now() / 1000) + steps * 30 });

  async function startTotp(token: string): Promise<TotpStarted> {
    const res = await me(t, 'POST', '/authentication-methods', token, { type: 'totp' });
    expect(res.statusCode).toBe(202);
    const started = res.json<TotpStarted>();
    expect(res.headers['location']).toBe(locationOf(started.id));
    return started;
  }

  const verify = (token: string, id: string, body: Record<string, unknown>) =>
    me(t, 'POST', `${locationOf(id)}/verify`, token, body);
  /** The user's methods besides the password every test user has. */
  const list = async (token: string, query = '') =>
    (await me(t, 'GET', `/authentication-methods${query}`, token))
      .json<{ authentication_methods: { id: string; type: string }[] }>()
      .authentication_methods.filter((m) => m.type !== 'password');

  async function userAndToken(): Promise<[User, string]> {
    const user = await f.make.user();
    return [user, await f.tokenFor(user)];
  }

  it('lists the factors the tenant enables (GET /factors follows /api/v2/guardian/factors)', async () => {
    const [, token] = await userAndToken();
    const factors = async () => (await me(t, 'GET', '/factors', token)).json<unknown>();
    expect(await factors()).toEqual({
      factors: [
        { type: 'passkey', usage: ['primary'] },
        { type: 'totp', usage: ['secondary'] },
        { type: 'recovery-code', usage: ['secondary'] },
      ],
    });
    const open = await me(t, 'POST', '/authentication-methods', token, { type: 'totp' });
    expect(open.statusCode).toBe(202);
    await factor('otp', false);
    const late = await verify(token, open.json<TotpStarted>().id, {
      auth_session: open.json<TotpStarted>().auth_session,
      otp_code: await codeOf(open.json<TotpStarted>().manual_input_code),
    });
    expect(late.statusCode).toBe(400);
    expect(late.json()).toEqual(
      problem(400, 'Bad Request', 'The totp factor is not enabled for this tenant.'),
    );
    expect(await list(token)).toEqual([]);
    expect(await factors()).toEqual({
      factors: [
        { type: 'passkey', usage: ['primary'] },
        { type: 'recovery-code', usage: ['secondary'] },
      ],
    });
    await factor('recovery-code', false);
    expect(await factors()).toEqual({ factors: [{ type: 'passkey', usage: ['primary'] }] });
    // A disabled factor cannot be enrolled.
    for (const type of ['totp', 'recovery-code']) {
      const res = await me(t, 'POST', '/authentication-methods', token, { type });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(
        problem(400, 'Bad Request', `The ${type} factor is not enabled for this tenant.`),
      );
    }
    await factor('otp', true);
    await factor('recovery-code', true);
  });

  it('starts a TOTP enrolment with an otpauth:// URI, verifies an otplib code and lists the method', async () => {
    const [user, token] = await userAndToken();
    const settings = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token: await t.managementToken(),
      body: { friendly_name: 'Ada Shop' },
    });
    expect(settings.statusCode).toBe(200);
    const started = await startTotp(token);
    expect(started.id).toMatch(/^totp\|dev_[A-Za-z0-9]{20}$/);
    expect(started.manual_input_code).toMatch(/^[A-Z2-7]{32}$/);
    expect(started).toEqual({
      id: started.id,
      auth_session: expect.stringMatching(/^[\w-]{43}$/),
      barcode_uri:
        `otpauth://totp/Ada%20Shop:${encodeURIComponent(user.userId)}?secret=${started.manual_input_code}` +
        '&issuer=Ada%20Shop&algorithm=SHA1&digits=6&period=30',
      manual_input_code: started.manual_input_code,
    });
    // Pending is not enrolled.
    expect(await list(token)).toEqual([]);
    expect(
      (await me(t, 'GET', `/authentication-methods/${encodeURIComponent(started.id)}`, token)).statusCode,
    ).toBe(404);

    const res = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: await codeOf(started.manual_input_code),
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['location']).toBe(locationOf(started.id));
    const now = new Date(t.clock.now()).toISOString();
    const method = {
      id: started.id,
      type: 'totp',
      usage: ['secondary'],
      created_at: now,
      confirmed: true,
      last_auth_at: now,
    };
    expect(res.json()).toEqual(method);
    expect(await list(token)).toEqual([method]);
    expect(await list(token, '?type=totp')).toEqual([method]);
    expect(await list(token, '?type=passkey')).toEqual([]);
    const one = await me(t, 'GET', `/authentication-methods/${encodeURIComponent(started.id)}`, token);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(method);

    // The same auth_session and code again: spent.
    const again = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: await codeOf(started.manual_input_code),
    });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual(INVALID_SESSION);

    const renamed = await me(t, 'PATCH', `/authentication-methods/${encodeURIComponent(started.id)}`, token, {
      name: 'Phone app',
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toEqual({ ...method, name: 'Phone app' });
    expect(await list(token)).toEqual([{ ...method, name: 'Phone app' }]);

    const deleted = await me(t, 'DELETE', `/authentication-methods/${encodeURIComponent(started.id)}`, token);
    expect(deleted.statusCode).toBe(204);
    expect(await list(token)).toEqual([]);
    const gone = await me(t, 'DELETE', `/authentication-methods/${encodeURIComponent(started.id)}`, token);
    expect(gone.statusCode).toBe(404);
  });

  it('refuses a wrong code and keeps the enrolment open; accepts a code one step off, not two', async () => {
    const [, token] = await userAndToken();
    const started = await startTotp(token);
    const secret = started.manual_input_code;
    const right = await codeOf(secret);
    const wrong = right === '000000' ? '111111' : '000000';
    for (const otp_code of [wrong, await codeOf(secret, -2), await codeOf(secret, 2), 'abc123']) {
      const res = await verify(token, started.id, { auth_session: started.auth_session, otp_code });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(WRONG_CODE);
    }
    expect(await list(token)).toEqual([]);
    // Four wrong attempts so far: the fifth try may still succeed, with the previous step's code.
    const res = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: await codeOf(secret, -1),
    });
    expect(res.statusCode).toBe(201);
  });

  it('ends the enrolment after five wrong codes', async () => {
    const [, token] = await userAndToken();
    const started = await startTotp(token);
    const right = await codeOf(started.manual_input_code);
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i += 1) {
      const res = await verify(token, started.id, { auth_session: started.auth_session, otp_code: wrong });
      expect(res.json()).toEqual(WRONG_CODE);
    }
    const late = await verify(token, started.id, { auth_session: started.auth_session, otp_code: right });
    expect(late.statusCode).toBe(400);
    expect(late.json()).toEqual(INVALID_SESSION);
    expect(await list(token)).toEqual([]);
  });

  it('refuses an expired auth_session, another user’s, and another method’s', async () => {
    const [, token] = await userAndToken();
    const [, other] = await userAndToken();
    const started = await startTotp(token);
    const secret = started.manual_input_code;
    const stolen = await verify(other, started.id, {
      auth_session: started.auth_session,
      otp_code: await codeOf(secret),
    });
    expect(stolen.statusCode).toBe(400);
    expect(stolen.json()).toEqual(INVALID_SESSION);
    expect(await list(other)).toEqual([]);

    const second = await startTotp(token);
    t.clock.advance(301_000);
    const expired = await verify(token, second.id, {
      auth_session: second.auth_session,
      otp_code: await codeOf(second.manual_input_code),
    });
    expect(expired.statusCode).toBe(400);
    expect(expired.json()).toEqual(INVALID_SESSION);

    const third = await startTotp(token);
    const recovery = await me(t, 'POST', '/authentication-methods', token, { type: 'recovery-code' });
    const crossed = await verify(token, recovery.json<RecoveryStarted>().id, {
      auth_session: third.auth_session,
    });
    expect(crossed.statusCode).toBe(400);
    expect(crossed.json()).toEqual(INVALID_SESSION);
    expect(await list(token)).toEqual([]);
  });

  it('enrols a recovery code shown once, confirmed by its auth_session alone, one per user', async () => {
    const [, token] = await userAndToken();
    const res = await me(t, 'POST', '/authentication-methods', token, { type: 'recovery-code' });
    expect(res.statusCode).toBe(202);
    const started = res.json<RecoveryStarted>();
    expect(started).toEqual({
      id: expect.stringMatching(/^recovery-code\|dev_[A-Za-z0-9]{20}$/),
      auth_session: expect.stringMatching(/^[\w-]{43}$/),
      recovery_code: expect.stringMatching(/^[A-Z0-9]{24}$/),
    });
    expect(res.headers['location']).toBe(locationOf(started.id));

    const withCode = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: '123456',
    });
    expect(withCode.statusCode).toBe(400);
    const verified = await verify(token, started.id, { auth_session: started.auth_session });
    expect(verified.statusCode).toBe(201);
    const now = new Date(t.clock.now()).toISOString();
    const method = {
      id: started.id,
      type: 'recovery-code',
      usage: ['secondary'],
      created_at: now,
      confirmed: true,
      last_auth_at: now,
    };
    expect(verified.json()).toEqual(method);
    expect(await list(token)).toEqual([method]);
    // The code is not shown again anywhere.
    expect(JSON.stringify(await list(token))).not.toContain(started.recovery_code);

    const twice = await me(t, 'POST', '/authentication-methods', token, { type: 'recovery-code' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toEqual(problem(409, 'Conflict', 'The user already has a recovery code.'));
    const named = await me(t, 'PATCH', `/authentication-methods/${encodeURIComponent(started.id)}`, token, {
      name: 'x',
    });
    expect(named.statusCode).toBe(400);

    const deleted = await me(t, 'DELETE', `/authentication-methods/${encodeURIComponent(started.id)}`, token);
    expect(deleted.statusCode).toBe(204);
    const anew = await me(t, 'POST', '/authentication-methods', token, { type: 'recovery-code' });
    expect(anew.statusCode).toBe(202);
    expect(anew.json<RecoveryStarted>().recovery_code).not.toBe(started.recovery_code);
  });

  it('refuses unknown fields, wrong bodies and missing scopes with problem bodies', async () => {
    const [user, token] = await userAndToken();
    const extra = await me(t, 'POST', '/authentication-methods', token, { type: 'totp', connection: 'x' });
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toEqual(
      problem(400, 'Bad Request', 'Payload validation error: totp takes no connection.'),
    );
    const unknown = await me(t, 'POST', '/authentication-methods', token, { type: 'totp', colour: 'red' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ status: 400, title: 'Bad Request' });

    const started = await startTotp(token);
    const noCode = await verify(token, started.id, { auth_session: started.auth_session });
    expect(noCode.statusCode).toBe(400);
    expect(noCode.json()).toEqual(
      problem(400, 'Bad Request', 'Payload validation error: otp_code is required.'),
    );
    const moreFields = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: await codeOf(started.manual_input_code),
      colour: 'red',
    });
    expect(moreFields.statusCode).toBe(400);
    expect(moreFields.json()).toMatchObject({ status: 400, title: 'Bad Request' });

    const readOnly = await f.tokenFor(user, ['read:me:authentication_methods']);
    const refused = await me(t, 'POST', '/authentication-methods', readOnly, { type: 'totp' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual(
      problem(
        403,
        'insufficient_scope',
        'Insufficient scope, expected any of: create:me:authentication_methods',
      ),
    );
    const verifyRefused = await verify(readOnly, started.id, {
      auth_session: started.auth_session,
      otp_code: await codeOf(started.manual_input_code),
    });
    expect(verifyRefused.statusCode).toBe(403);
    // Nothing spent by the refused calls: the enrolment still completes.
    const ok = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: await codeOf(started.manual_input_code),
    });
    expect(ok.statusCode).toBe(201);
    const readOnlyDelete = await me(
      t,
      'DELETE',
      `/authentication-methods/${encodeURIComponent(started.id)}`,
      readOnly,
    );
    expect(readOnlyDelete.statusCode).toBe(403);
    expect(await list(token)).toHaveLength(1);
  });

  it('shows the factors to administrators and deletes them with their user', async () => {
    const [user, token] = await userAndToken();
    const started = await startTotp(token);
    const ok = await verify(token, started.id, {
      auth_session: started.auth_session,
      otp_code: await codeOf(started.manual_input_code),
    });
    expect(ok.statusCode).toBe(201);
    const stored = await t.deps.store.mfaEnrolments.findForUser(user.userId, started.id);
    expect(stored?.secret).toBe(started.manual_input_code);

    // Administrators see and remove the factors through the Management API.
    const totpAt = new Date(t.clock.now()).toISOString();
    t.clock.advance(1000);
    const recovery = await me(t, 'POST', '/authentication-methods', token, { type: 'recovery-code' });
    const recoveryId = recovery.json<RecoveryStarted>().id;
    expect(
      (await verify(token, recoveryId, { auth_session: recovery.json<RecoveryStarted>().auth_session }))
        .statusCode,
    ).toBe(201);
    const admin = await t.managementToken();
    const url = `/api/v2/users/${encodeURIComponent(user.userId)}/authentication-methods`;
    const listed = await api(t.app, { method: 'GET', url, token: admin });
    expect(listed.statusCode).toBe(200);
    const recoveryAt = new Date(t.clock.now()).toISOString();
    const authenticator = (id: string, type: string, at: string) => ({
      id,
      type,
      confirmed: true,
      created_at: at,
      enrolled_at: at,
      last_auth_at: at,
    });
    expect(listed.json()).toEqual([
      authenticator(started.id, 'totp', totpAt),
      authenticator(recoveryId, 'recovery-code', recoveryAt),
    ]);
    const removedByAdmin = await api(t.app, {
      method: 'DELETE',
      url: `${url}/${encodeURIComponent(recoveryId)}`,
      token: admin,
    });
    expect(removedByAdmin.statusCode).toBe(204);
    expect((await list(token)).map((m) => m.id)).toEqual([started.id]);
    const removed = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      token: await t.managementToken(),
    });
    expect(removed.statusCode).toBe(204);
    expect(await t.deps.store.mfaEnrolments.findForUser(user.userId, started.id)).toBeUndefined();
  });
});
