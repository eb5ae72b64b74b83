import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import type { User } from '../../../src/domain/user.js';
import { MY_ACCOUNT_SCOPES } from '../../../src/management/resource-servers/my-account.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { dpopKey } from '../../helpers/dpop.js';
import { api, jwtPayload } from '../../helpers/http.js';
import { mfaAccessToken } from '../../helpers/mfa-tokens.js';
import { ME_AUDIENCE, me, myAccountFixture, type MyAccountFixture } from '../../helpers/myaccount.js';

const MFA_ACR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const DPOP_ALGS = 'ES256 ES384 ES512 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA Ed25519';
const params = (maxAge: number) =>
  `error="insufficient_user_authentication", error_description="A recent second factor is required", acr_values="${MFA_ACR}", max_age="${maxAge}"`;
const stepUpProblem = (minutes: number) => ({
  type: 'https://www.rfc-editor.org/rfc/rfc9470',
  status: 403,
  title: 'Recent second factor required',
  detail:
    `This operation requires a second factor completed within the last ${minutes} minutes. ` +
    `Sign in again with acr_values=${MFA_ACR} and max_age=${minutes * 60}, then retry with the new access token.`,
});

interface TotpStarted {
  id: string;
  auth_session: string;
  manual_input_code: string;
}

describe.each(testBackends())('Step-up for /me/v1 writes (RFC 9470) on $name', (backend) => {
  let t: TestApp;
  let f: MyAccountFixture;
  const nowSeconds = () => Math.floor(t.clock.now() / 1000);

  beforeAll(async () => {
    t = await buildTestApp(backend, {
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
    });
    f = await myAccountFixture(t);
    await f.activate();
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

  const setStepUp = async (minutes: unknown) =>
    api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token: await t.managementToken(),
      body: { mfa_step_up_max_age_in_minutes: minutes },
    });
  const mfaToken = (user: User, over: { authTime?: number; jkt?: string } = {}) =>
    mfaAccessToken(t, { client: f.client, user, audience: ME_AUDIENCE, scopes: MY_ACCOUNT_SCOPES, ...over });
  const startTotp = (token: string, headers: Record<string, string> = {}) =>
    me(t, 'POST', '/authentication-methods', token, { type: 'totp' }, headers);
  /** Enrols a TOTP method with `token`: start, then verify with an otplib code. */
  async function enrolTotp(token: string): Promise<string> {
    const started = await startTotp(token);
    expect(started.statusCode).toBe(202);
    const { id, auth_session, manual_input_code } = started.json<TotpStarted>();
    const otp_code = await generate({ secret: manual_input_code, epoch: nowSeconds() });
    const verified = await me(t, 'POST', `/authentication-methods/${encodeURIComponent(id)}/verify`, token, {
      auth_session,
      otp_code,
    });
    expect(verified.statusCode).toBe(201);
    return id;
  }

  it('the tenant setting is validated, shown by GET, and reset by null', async () => {
    for (const bad of [0, 1441, 2.5, '10', true, -1]) {
      const res = await setStepUp(bad);
      expect({ bad, status: res.statusCode }).toEqual({ bad, status: 400 });
      expect(res.json<{ errorCode: string }>().errorCode).toBe('invalid_body');
    }
    const set = await setStepUp(15);
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ mfa_step_up_max_age_in_minutes: 15 });
    const read = await api(t.app, {
      method: 'GET',
      url: '/api/v2/tenants/settings',
      token: await t.managementToken(),
    });
    expect(read.json()).toMatchObject({ mfa_step_up_max_age_in_minutes: 15 });
    expect((await setStepUp(null)).statusCode).toBe(200);
    const after = await api(t.app, {
      method: 'GET',
      url: '/api/v2/tenants/settings',
      token: await t.managementToken(),
    });
    expect(after.json()).not.toHaveProperty('mfa_step_up_max_age_in_minutes');
  });

  it('with the setting off, a token without a second factor enrols and deletes', async () => {
    expect((await setStepUp(null)).statusCode).toBe(200);
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    expect(jwtPayload(token)).not.toHaveProperty('amr');
    const id = await enrolTotp(token);
    const deleted = await me(t, 'DELETE', `/authentication-methods/${encodeURIComponent(id)}`, token);
    expect(deleted.statusCode).toBe(204);
  });

  it('with the setting on, a token without a second factor gets 403 and the RFC 9470 challenge on enrol, verify and delete; reads and PATCH pass', async () => {
    expect((await setStepUp(null)).statusCode).toBe(200);
    const user = await f.make.user();
    const plain = await f.tokenFor(user);
    // Enrolled while step-up was off, so there is something to rename and delete.
    const id = await enrolTotp(plain);
    const pending = (await startTotp(plain)).json<TotpStarted>();
    expect((await setStepUp(10)).statusCode).toBe(200);

    const path = `/authentication-methods/${encodeURIComponent(id)}`;
    const refusals = [
      await startTotp(plain),
      await me(t, 'POST', `/authentication-methods/${encodeURIComponent(pending.id)}/verify`, plain, {
        auth_session: pending.auth_session,
        otp_code: '000000',
      }),
      await me(t, 'DELETE', path, plain),
    ];
    for (const res of refusals) {
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.json()).toEqual(stepUpProblem(10));
      expect(res.headers['www-authenticate']).toBe(`Bearer ${params(600)}`);
    }
    // Step-up comes after the scope check: a token without the scope hears about the scope.
    const unscoped = await f.tokenFor(user, ['read:me:authentication_methods']);
    const noScope = await startTotp(unscoped);
    expect(noScope.statusCode).toBe(403);
    expect(noScope.json<{ title: string }>().title).toBe('insufficient_scope');

    expect((await me(t, 'GET', '/authentication-methods', plain)).statusCode).toBe(200);
    expect((await me(t, 'GET', path, plain)).statusCode).toBe(200);
    expect((await me(t, 'PATCH', path, plain, { name: 'Phone app' })).statusCode).toBe(200);
    // Nothing was deleted.
    expect((await me(t, 'GET', path, plain)).statusCode).toBe(200);
  });

  it('a token of a recent multi-factor sign-in passes, and stops passing once older than the window', async () => {
    expect((await setStepUp(10)).statusCode).toBe(200);
    const user = await f.make.user();
    const token = await mfaToken(user);
    expect(jwtPayload(token)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], auth_time: nowSeconds() });
    const id = await enrolTotp(token);
    expect(
      (await me(t, 'DELETE', `/authentication-methods/${encodeURIComponent(id)}`, token)).statusCode,
    ).toBe(204);

    // Exactly at the window's end it still counts; a second later it does not.
    t.clock.advance(10 * 60 * 1000);
    expect((await startTotp(token)).statusCode).toBe(202);
    t.clock.advance(1000);
    const stale = await startTotp(token);
    expect(stale.statusCode).toBe(403);
    expect(stale.json()).toEqual(stepUpProblem(10));
    // A wider window lets the same token through again.
    expect((await setStepUp(60)).statusCode).toBe(200);
    expect((await startTotp(token)).statusCode).toBe(202);
    // A token whose second factor is old from the start.
    const old = await mfaToken(user, { authTime: nowSeconds() - 61 * 60 });
    expect((await startTotp(old)).statusCode).toBe(403);
    expect((await startTotp(old)).headers['www-authenticate']).toBe(`Bearer ${params(3600)}`);
  });

  it('a DPoP-bound token is challenged in the DPoP scheme, and passes with a recent second factor', async () => {
    expect((await setStepUp(5)).statusCode).toBe(200);
    const user = await f.make.user();
    const key = await dpopKey(nowSeconds);
    const url = `${TEST_ISSUER}me/v1/authentication-methods`;
    const dpopStart = async (token: string) =>
      t.app.inject({
        method: 'POST',
        url: '/me/v1/authentication-methods',
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await key.proof('POST', url, { accessToken: token }),
        },
        payload: { type: 'totp' },
      });
    const old = await mfaToken(user, { authTime: nowSeconds() - 6 * 60, jkt: key.jkt });
    const refused = await dpopStart(old);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual(stepUpProblem(5));
    expect(refused.headers['www-authenticate']).toBe(`DPoP algs="${DPOP_ALGS}", ${params(300)}`);

    const fresh = await mfaToken(user, { jkt: key.jkt });
    expect((await dpopStart(fresh)).statusCode).toBe(202);
    expect((await setStepUp(null)).statusCode).toBe(200);
  });
});
