import type { LightMyRequestResponse } from 'fastify';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { dpopKey } from '../../helpers/dpop.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { form, jwtPayload } from '../../helpers/http.js';
import { configureMfa, sixDigits, startTestSmsGateway, type TestSmsGateway } from '../../helpers/mfa.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.js';

const PASSWORD = 'Pass-word-123';
const OTP_GRANT = 'http://auth0.com/oauth/grant-type/mfa-otp';
const OOB_GRANT = 'http://auth0.com/oauth/grant-type/mfa-oob';
const RECOVERY_GRANT = 'http://auth0.com/oauth/grant-type/mfa-recovery-code';
const REALM_GRANT = 'http://auth0.com/oauth/grant-type/password-realm';
const MFA_REQUIRED = {
  error: 'mfa_required',
  error_description: 'Multifactor authentication required',
  mfa_token: expect.any(String) as unknown,
};
const MALFORMED = { error: 'invalid_grant', error_description: 'Malformed mfa_token' };
const WRONG_OTP = { error: 'invalid_grant', error_description: 'Invalid otp_code.' };
const WEB_ORIGIN = 'https://app.example.com';

interface OtpAssociation {
  authenticator_type: 'otp';
  secret: string;
  barcode_uri: string;
  recovery_codes?: string[];
}
interface OobAssociation {
  authenticator_type: 'oob';
  oob_channel: string;
  oob_code: string;
  binding_method: string;
  recovery_codes?: string[];
}
interface Tokens {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  token_type: string;
  scope?: string;
  recovery_code?: string;
}

describe.each(testBackends())("Auth0's MFA API (spec 1.9) on $name", (backend) => {
  let t: TestApp;
  let make: Factories;
  let smtp: TestSmtpServer;
  let sms: TestSmsGateway;
  let app: Client;
  let apiId: string;

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    sms = await startTestSmsGateway();
    t = await buildTestApp(backend, {
      mail: { smtpUrl: smtp.url, from: 'Test Tenant <no-reply@latchkey.test>' },
      sms: { url: sms.url, token: 'gateway-token' },
    });
    make = createFactories(t.deps);
    app = await make.client({
      appType: 'regular_web',
      grantTypes: ['password', REALM_GRANT, 'refresh_token', OTP_GRANT, OOB_GRANT, RECOVERY_GRANT],
      settings: { web_origins: [WEB_ORIGIN] },
    });
    await make.enableConnection(app.clientId);
    const api = await make.api({ allowOfflineAccess: true, scopes: [{ value: 'read:x' }] });
    apiId = api.identifier;
    await make.grant({ clientId: app.clientId, audience: apiId, scope: ['read:x'] });
    await configureMfa(t, { otp: true, email: true, sms: true, 'recovery-code': true }, ['all-applications']);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
    await sms.close();
  });

  const token = (fields: Record<string, string>, c: Client = app, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({ client_id: c.clientId, client_secret: c.clientSecret, ...fields }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });

  async function mfaTokenFor(user: User, extra: Record<string, string> = {}): Promise<string> {
    const res = await token({
      grant_type: 'password',
      username: user.email ?? '',
      password: PASSWORD,
      audience: apiId,
      scope: 'openid read:x offline_access',
      ...extra,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(MFA_REQUIRED);
    return res.json<{ mfa_token: string }>().mfa_token;
  }

  const bearer = (method: 'GET' | 'POST' | 'DELETE', url: string, mfaToken: string, body?: object) =>
    t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${mfaToken}` },
      ...(body !== undefined ? { payload: body } : {}),
    });
  const associate = (mfaToken: string, body: object) => bearer('POST', '/mfa/associate', mfaToken, body);
  const authenticators = async (mfaToken: string) => {
    const res = await bearer('GET', '/mfa/authenticators', mfaToken);
    expect(res.statusCode).toBe(200);
    return res.json<{ id: string; authenticator_type: string; active: boolean; oob_channel?: string }[]>();
  };
  const challenge = (fields: Record<string, string>, c: Client = app) =>
    t.app.inject({
      method: 'POST',
      url: '/mfa/challenge',
      payload: { client_id: c.clientId, client_secret: c.clientSecret, ...fields },
    });
  const codeOf = (secret: string, steps = 0) =>
    generate({ secret, epoch: Math.floor(t.clock.now() / 1000) + steps * 30 });
  const otpGrant = (mfaToken: string, otp: string, c: Client = app, headers: Record<string, string> = {}) =>
    token({ grant_type: OTP_GRANT, mfa_token: mfaToken, otp }, c, headers);
  const refused = (res: LightMyRequestResponse, status: number, body: object) => {
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual(body);
  };

  /** A user with a confirmed TOTP factor (and a recovery code), enrolled through /mfa/associate. */
  async function enrolledWithTotp(): Promise<{ user: User; secret: string; recoveryCode: string }> {
    const user = await make.user();
    const mfaToken = await mfaTokenFor(user);
    const started = (await associate(mfaToken, { authenticator_types: ['otp'] })).json<OtpAssociation>();
    const res = await otpGrant(mfaToken, await codeOf(started.secret));
    expect(res.statusCode).toBe(200);
    // Later codes must come from a later step: each step is accepted once.
    t.clock.advance(30_000);
    return { user, secret: started.secret, recoveryCode: started.recovery_codes?.[0] ?? '' };
  }

  it('answers a password grant 403 mfa_required with an mfa_token when the policy demands MFA', async () => {
    const user = await make.user();
    await mfaTokenFor(user);
    const realm = await token({
      grant_type: REALM_GRANT,
      realm: 'Username-Password-Authentication',
      username: user.email ?? '',
      password: PASSWORD,
    });
    refused(realm, 403, MFA_REQUIRED);
    // A wrong password is still a wrong password.
    refused(await token({ grant_type: 'password', username: user.email ?? '', password: 'nope' }), 403, {
      error: 'invalid_grant',
      error_description: 'Wrong email or password.',
    });
    // Without the policy, the password alone signs in.
    await configureMfa(t, {}, []);
    const plain = await token({ grant_type: 'password', username: user.email ?? '', password: PASSWORD });
    expect(plain.statusCode).toBe(200);
    await configureMfa(t, {}, ['all-applications']);
  });

  it('enrols TOTP through /mfa/associate and finishes the sign-in with the mfa-otp grant', async () => {
    const user = await make.user({ email: 'totp.user@example.com' });
    const mfaToken = await mfaTokenFor(user);
    expect(await authenticators(mfaToken)).toEqual([]);
    const res = await associate(mfaToken, { authenticator_types: ['otp'] });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const started = res.json<OtpAssociation>();
    expect(started).toEqual({
      authenticator_type: 'otp',
      secret: expect.stringMatching(/^[A-Z2-7]{32}$/) as unknown,
      barcode_uri: `otpauth://totp/Latchkey:totp.user%40example.com?secret=${started.secret}&issuer=Latchkey&algorithm=SHA1&digits=6&period=30`,
      recovery_codes: [expect.stringMatching(/^[A-Z0-9]{24}$/) as unknown],
    });
    // Pending until a code confirms it.
    expect(await authenticators(mfaToken)).toEqual([]);
    refused(await otpGrant(mfaToken, '000000'), 403, WRONG_OTP);
    const code = await codeOf(started.secret);
    const ok = await otpGrant(mfaToken, code);
    expect(ok.statusCode).toBe(200);
    const tokens = ok.json<Tokens>();
    expect(tokens).toEqual({
      access_token: expect.any(String) as unknown,
      id_token: expect.any(String) as unknown,
      refresh_token: expect.any(String) as unknown,
      token_type: 'Bearer',
      expires_in: 86400,
      scope: 'openid read:x offline_access',
    });
    const at = jwtPayload(tokens.access_token);
    expect(at).toMatchObject({
      sub: user.userId,
      aud: [apiId, `${TEST_ISSUER}userinfo`],
      scope: 'openid read:x offline_access',
    });
    expect(at['amr']).toEqual(['pwd', 'otp', 'mfa']);
    expect(at['auth_time']).toEqual(expect.any(Number));
    const id = jwtPayload(tokens.id_token ?? '');
    expect(id['amr']).toEqual(['pwd', 'otp', 'mfa']);
    expect(id['auth_time']).toBe(at['auth_time']);
    // The mfa_token answered its token request: it is gone.
    refused(await otpGrant(mfaToken, code), 403, MALFORMED);
    const next = await mfaTokenFor(user);
    // The same code is refused for the rest of its life, even with a new mfa_token.
    refused(await otpGrant(next, code), 403, WRONG_OTP);
    expect(await authenticators(next)).toEqual([
      {
        id: expect.stringMatching(/^recovery-code\|dev_/) as unknown,
        authenticator_type: 'recovery-code',
        active: true,
      },
      { id: expect.stringMatching(/^totp\|dev_/) as unknown, authenticator_type: 'otp', active: true },
    ]);
    // Auth0: an mfa_token enrols only a user without factors.
    refused(await associate(next, { authenticator_types: ['otp'] }), 403, {
      error: 'access_denied',
      error_description: 'User is already enrolled.',
    });
    // The refresh token of an MFA sign-in refreshes without asking again.
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' });
    expect(refreshed.statusCode).toBe(200);
    // The challenge endpoint tells the client to ask for an otp.
    const asked = await challenge({ mfa_token: next, challenge_type: 'otp' });
    expect(asked.statusCode).toBe(200);
    expect(asked.json()).toEqual({ challenge_type: 'otp' });
  });

  it('records the sign-in steps as log events', async () => {
    const { user, secret } = await enrolledWithTotp();
    const mfaToken = await mfaTokenFor(user);
    await otpGrant(mfaToken, '000000');
    expect((await otpGrant(mfaToken, await codeOf(secret))).statusCode).toBe(200);
    await t.deps.events.flush();
    const logs = await t.deps.store.logs.list(
      { userId: user.userId, sort: { field: 'date', direction: 'asc' } },
      { offset: 0, limit: 50 },
    );
    const types = logs.map((l) => l.type);
    expect(types).toEqual(expect.arrayContaining(['mfar', 'feotpft', 'seotpft']));
  });

  it('signs in with a recovery code and hands out its replacement', async () => {
    const { user, recoveryCode } = await enrolledWithTotp();
    const mfaToken = await mfaTokenFor(user);
    const recover = (code: string, m = mfaToken) =>
      token({ grant_type: RECOVERY_GRANT, mfa_token: m, recovery_code: code });
    refused(await recover('AAAAAAAAAAAAAAAAAAAAAAAA'), 403, {
      error: 'invalid_grant',
      error_description: 'MFA Authorization rejected.',
    });
    const ok = await recover(recoveryCode);
    expect(ok.statusCode).toBe(200);
    const body = ok.json<Tokens>();
    expect(body.recovery_code).toMatch(/^[A-Z0-9]{24}$/);
    expect(body.recovery_code).not.toBe(recoveryCode);
    expect(jwtPayload(body.access_token)['amr']).toEqual(['pwd', 'otp', 'mfa']);
    const again = await mfaTokenFor(user);
    // Used up: the old code no longer works, the new one does.
    refused(await recover(recoveryCode, again), 403, {
      error: 'invalid_grant',
      error_description: 'MFA Authorization rejected.',
    });
    expect((await recover(body.recovery_code ?? '', again)).statusCode).toBe(200);
  });

  it('enrols email through /mfa/associate and answers with the emailed code (mfa-oob)', async () => {
    const user = await make.user({ email: 'oob.mail@example.com' });
    const mfaToken = await mfaTokenFor(user);
    const res = await associate(mfaToken, { authenticator_types: ['oob'], oob_channels: ['email'] });
    expect(res.statusCode).toBe(200);
    const started = res.json<OobAssociation>();
    expect(started).toEqual({
      authenticator_type: 'oob',
      oob_channel: 'email',
      oob_code: expect.any(String) as unknown,
      binding_method: 'prompt',
      recovery_codes: [expect.stringMatching(/^[A-Z0-9]{24}$/) as unknown],
    });
    const mail = await smtp.waitFor((m) => m.to.includes('oob.mail@example.com'));
    const code = sixDigits(mail.text);
    const oob = (bindingCode: string, oobCode = started.oob_code, m = mfaToken) =>
      token({ grant_type: OOB_GRANT, mfa_token: m, oob_code: oobCode, binding_code: bindingCode });
    const wrong = code === '000000' ? '111111' : '000000';
    refused(await oob(wrong), 403, { error: 'invalid_grant', error_description: 'Invalid binding_code.' });
    refused(await token({ grant_type: OOB_GRANT, mfa_token: mfaToken, oob_code: started.oob_code }), 400, {
      error: 'invalid_request',
      error_description: 'Missing required parameter: binding_code',
    });
    const ok = await oob(code);
    expect(ok.statusCode).toBe(200);
    expect(jwtPayload(ok.json<Tokens>().access_token)['amr']).toEqual(['pwd', 'email', 'mfa']);

    // Next sign-in: /mfa/challenge sends a new code to the confirmed factor.
    const next = await mfaTokenFor(user);
    const [factor] = (await authenticators(next)).filter((a) => a.authenticator_type === 'oob');
    expect(factor).toEqual({
      id: expect.stringMatching(/^email\|dev_/) as unknown,
      authenticator_type: 'oob',
      active: true,
      oob_channel: 'email',
    });
    const asked = await challenge({
      mfa_token: next,
      challenge_type: 'oob',
      authenticator_id: factor?.id ?? '',
    });
    expect(asked.statusCode).toBe(200);
    const sent = asked.json<{ challenge_type: string; oob_code: string; binding_method: string }>();
    expect(sent).toEqual({
      challenge_type: 'oob',
      oob_code: expect.any(String) as unknown,
      binding_method: 'prompt',
    });
    const second = await smtp.waitFor((m) => m.to.includes('oob.mail@example.com') && m !== mail);
    const secondCode = sixDigits(second.text);
    // The first challenge's code is used up.
    refused(await oob(code, started.oob_code, next), 403, {
      error: 'invalid_grant',
      error_description: 'Invalid oob_code.',
    });
    expect((await oob(secondCode, sent.oob_code, next)).statusCode).toBe(200);
    // The code is used: again it is refused.
    const third = await mfaTokenFor(user);
    refused(await oob(secondCode, sent.oob_code, third), 403, {
      error: 'invalid_grant',
      error_description: 'Invalid oob_code.',
    });
    // An expired code: five minutes.
    const expiring = (await challenge({ mfa_token: third, challenge_type: 'oob' })).json<{
      oob_code: string;
    }>();
    const late = await smtp.waitFor(
      (m) => m.to.includes('oob.mail@example.com') && m !== mail && m !== second,
    );
    t.clock.advance(301_000);
    refused(await oob(sixDigits(late.text), expiring.oob_code, third), 403, {
      error: 'invalid_grant',
      error_description: 'Invalid oob_code.',
    });
  });

  it('enrols a phone through /mfa/associate, texting the code through the HTTP SMS gateway', async () => {
    const user = await make.user();
    const phone = '+14155550123';
    const mfaToken = await mfaTokenFor(user);
    const res = await associate(mfaToken, {
      authenticator_types: ['oob'],
      oob_channels: ['sms'],
      phone_number: phone,
    });
    expect(res.statusCode).toBe(200);
    const started = res.json<OobAssociation>();
    expect(started).toMatchObject({
      authenticator_type: 'oob',
      oob_channel: 'sms',
      binding_method: 'prompt',
    });
    const message = await sms.waitFor(phone);
    expect(message.channel).toBe('sms');
    expect(sms.authorizations.at(-1)).toBe('Bearer gateway-token');
    const ok = await token({
      grant_type: OOB_GRANT,
      mfa_token: mfaToken,
      oob_code: started.oob_code,
      binding_code: sixDigits(message.body),
    });
    expect(ok.statusCode).toBe(200);
    expect(jwtPayload(ok.json<Tokens>().access_token)['amr']).toEqual(['pwd', 'sms', 'mfa']);
    const next = await mfaTokenFor(user);
    const listed = await authenticators(next);
    expect(listed).toContainEqual({
      id: expect.stringMatching(/^phone\|dev_/) as unknown,
      authenticator_type: 'oob',
      active: true,
      oob_channel: 'sms',
    });
    const asked = await challenge({ mfa_token: next, challenge_type: 'oob', oob_channel: 'sms' });
    expect(asked.statusCode).toBe(200);
    const text = await sms.waitFor(phone, 1);
    const done = await token({
      grant_type: OOB_GRANT,
      mfa_token: next,
      oob_code: asked.json<{ oob_code: string }>().oob_code,
      binding_code: sixDigits(text.body),
    });
    expect(done.statusCode).toBe(200);
  });

  it('texts by voice when the phone enrolment asks for it, and answers 503 when the gateway refuses', async () => {
    const user = await make.user();
    const mfaToken = await mfaTokenFor(user);
    const phone = '+14155550199';
    const res = await associate(mfaToken, {
      authenticator_types: ['oob'],
      oob_channels: ['voice'],
      phone_number: phone,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ oob_channel: 'voice' });
    expect((await sms.waitFor(phone)).channel).toBe('voice');
    sms.status = 500;
    try {
      refused(
        await associate(mfaToken, {
          authenticator_types: ['oob'],
          oob_channels: ['sms'],
          phone_number: phone,
        }),
        503,
        {
          error: 'temporarily_unavailable',
          error_description: 'The text message could not be sent.',
        },
      );
    } finally {
      sms.status = 200;
    }
  });

  it('refuses bad /mfa/associate requests', async () => {
    const user = await make.user();
    const mfaToken = await mfaTokenFor(user);
    const bad = async (body: object, description: string) => {
      refused(await associate(mfaToken, body), 400, {
        error: 'invalid_request',
        error_description: description,
      });
    };
    await bad({}, 'Missing required parameter: authenticator_types');
    await bad({ authenticator_types: ['push'] }, 'authenticator_types must be ["otp"] or ["oob"].');
    await bad({ authenticator_types: ['oob'] }, 'Missing required parameter: oob_channels');
    await bad(
      { authenticator_types: ['oob'], oob_channels: ['auth0'] },
      'oob_channels must be one of ["sms"], ["voice"] or ["email"].',
    );
    await bad(
      { authenticator_types: ['oob'], oob_channels: ['sms'] },
      'Missing required parameter: phone_number',
    );
    await bad(
      { authenticator_types: ['oob'], oob_channels: ['sms'], phone_number: '555-0100' },
      'phone_number must be an E.164 number, e.g. +14155550100.',
    );
    refused(await bearer('GET', '/mfa/authenticators', 'not-a-token'), 401, {
      error: 'invalid_token',
      error_description: 'Malformed mfa_token',
    });
    const none = await t.app.inject({ method: 'GET', url: '/mfa/authenticators' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    // A factor the tenant does not enable cannot be enrolled.
    await configureMfa(t, { otp: false }, ['all-applications']);
    try {
      refused(await associate(mfaToken, { authenticator_types: ['otp'] }), 403, {
        error: 'access_denied',
        error_description: 'The otp factor is not enabled for this tenant.',
      });
    } finally {
      await configureMfa(t, { otp: true }, ['all-applications']);
    }
  });

  it('refuses mfa grants and challenges for another client, a bad client secret and expired mfa_tokens', async () => {
    const { user, secret } = await enrolledWithTotp();
    const other = await make.client({ appType: 'regular_web', grantTypes: ['password', OTP_GRANT] });
    const mfaToken = await mfaTokenFor(user);
    refused(await otpGrant(mfaToken, await codeOf(secret), other), 403, MALFORMED);
    refused(await challenge({ mfa_token: mfaToken, challenge_type: 'otp' }, other), 403, MALFORMED);
    const badSecret = await t.app.inject({
      method: 'POST',
      url: '/mfa/challenge',
      payload: {
        client_id: app.clientId,
        client_secret: 'wrong',
        mfa_token: mfaToken,
        challenge_type: 'otp',
      },
    });
    expect(badSecret.statusCode).toBe(401);
    expect(badSecret.json()).toMatchObject({ error: 'invalid_client' });
    refused(await challenge({ mfa_token: mfaToken, challenge_type: 'push' }), 400, {
      error: 'invalid_request',
      error_description: 'challenge_type must be otp or oob.',
    });
    refused(await challenge({ mfa_token: mfaToken, challenge_type: 'oob' }), 400, {
      error: 'unsupported_challenge_type',
      error_description: 'User is not enrolled with oob.',
    });
    // A client without the grant type may not use it (Auth0: grant_types).
    const noGrant = await make.client({ appType: 'regular_web', grantTypes: ['password'] });
    refused(await otpGrant(mfaToken, '123456', noGrant), 403, {
      error: 'unauthorized_client',
      error_description: `Grant type '${OTP_GRANT}' not allowed for the client.`,
    });
    // The mfa_token lives ten minutes.
    t.clock.advance(601_000);
    refused(await otpGrant(mfaToken, await codeOf(secret)), 403, MALFORMED);
    refused(await challenge({ mfa_token: mfaToken, challenge_type: 'otp' }), 403, MALFORMED);
    expect((await bearer('GET', '/mfa/authenticators', mfaToken)).statusCode).toBe(401);
    refused(await token({ grant_type: OTP_GRANT, otp: '123456' }), 400, {
      error: 'invalid_request',
      error_description: 'Missing required parameter: mfa_token',
    });
  });

  it('refuses a TOTP code of a step outside the window, and accepts a public client on a form-encoded challenge', async () => {
    const { user, secret } = await enrolledWithTotp();
    const spa = await make.client({
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['password', OTP_GRANT],
    });
    await make.enableConnection(spa.clientId);
    const login = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        client_id: spa.clientId,
        username: user.email ?? '',
        password: PASSWORD,
      }),
    });
    refused(login, 403, MFA_REQUIRED);
    const mfaToken = login.json<{ mfa_token: string }>().mfa_token;
    const asked = await t.app.inject({
      method: 'POST',
      url: '/mfa/challenge',
      ...form({ client_id: spa.clientId, mfa_token: mfaToken, challenge_type: 'otp' }),
    });
    expect(asked.statusCode).toBe(200);
    expect(asked.json()).toEqual({ challenge_type: 'otp' });
    const otp = (code: string) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        ...form({ grant_type: OTP_GRANT, client_id: spa.clientId, mfa_token: mfaToken, otp: code }),
      });
    // Two steps old: expired.
    refused(await otp(await codeOf(secret, -2)), 403, WRONG_OTP);
    const ok = await otp(await codeOf(secret));
    expect(ok.statusCode).toBe(200);
    expect(jwtPayload(ok.json<Tokens>().access_token)['azp']).toBe(spa.clientId);
  });

  it('throttles the user after ten wrong codes, whatever the mfa_token (429 too_many_attempts)', async () => {
    const { user, secret } = await enrolledWithTotp();
    const mfaToken = await mfaTokenFor(user);
    for (let i = 0; i < 10; i++) refused(await otpGrant(mfaToken, '000000'), 403, WRONG_OTP);
    const again = await mfaTokenFor(user);
    const blocked = await otpGrant(again, await codeOf(secret));
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toEqual({
      error: 'too_many_attempts',
      error_description: 'Too many failed codes. Wait for some minutes before retrying.',
    });
  });

  it('deletes authenticators but never the last one with an mfa_token alone', async () => {
    const { user, secret } = await enrolledWithTotp();
    const mfaToken = await mfaTokenFor(user);
    const factors = await authenticators(mfaToken);
    const totp = factors.find((a) => a.authenticator_type === 'otp');
    const recovery = factors.find((a) => a.authenticator_type === 'recovery-code');
    refused(
      await bearer('DELETE', `/mfa/authenticators/${encodeURIComponent(totp?.id ?? '')}`, mfaToken),
      403,
      {
        error: 'access_denied',
        error_description:
          'The last authenticator cannot be removed without completing multifactor authentication.',
      },
    );
    // auth0-auth-js sends a JSON content type without a body.
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/mfa/authenticators/${encodeURIComponent(recovery?.id ?? '')}`,
      headers: { authorization: `Bearer ${mfaToken}`, 'content-type': 'application/json' },
    });
    expect(removed.statusCode).toBe(204);
    expect(removed.body).toBe('');
    refused(
      await bearer('DELETE', `/mfa/authenticators/${encodeURIComponent(recovery?.id ?? '')}`, mfaToken),
      404,
      {
        error: 'not_found',
        error_description: 'Authenticator not found.',
      },
    );
    expect((await authenticators(mfaToken)).map((a) => a.authenticator_type)).toEqual(['otp']);
    expect((await otpGrant(mfaToken, await codeOf(secret))).statusCode).toBe(200);
  });

  it('asks for MFA at the refresh_token grant when the refresh token was issued without it', async () => {
    const user = await make.user();
    await configureMfa(t, {}, []);
    const first = await token({
      grant_type: 'password',
      username: user.email ?? '',
      password: PASSWORD,
      audience: apiId,
      scope: 'openid read:x offline_access',
    });
    expect(first.statusCode).toBe(200);
    const refreshToken = first.json<Tokens>().refresh_token ?? '';
    await configureMfa(t, {}, ['all-applications']);
    const asked = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    refused(asked, 403, MFA_REQUIRED);
    // The family is not revoked: the same token asks again.
    const mfaToken = (await token({ grant_type: 'refresh_token', refresh_token: refreshToken })).json<{
      mfa_token: string;
    }>().mfa_token;
    const started = (await associate(mfaToken, { authenticator_types: ['otp'] })).json<OtpAssociation>();
    const done = await otpGrant(mfaToken, await codeOf(started.secret));
    expect(done.statusCode).toBe(200);
    const tokens = done.json<Tokens>();
    expect(tokens.scope).toBe('openid read:x offline_access');
    const at = jwtPayload(tokens.access_token);
    expect(at['aud']).toEqual([apiId, `${TEST_ISSUER}userinfo`]);
    expect(at['amr']).toEqual(['otp', 'mfa']);
    expect(at['gty']).toBe('refresh_token');
    // The new refresh token carries the second factor: it refreshes without asking.
    const again = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' });
    expect(again.statusCode).toBe(200);
  });

  it('binds the tokens of an mfa grant to a DPoP key', async () => {
    const { user, secret } = await enrolledWithTotp();
    const mfaToken = await mfaTokenFor(user);
    const key = await dpopKey(() => Math.floor(t.clock.now() / 1000));
    const res = await otpGrant(mfaToken, await codeOf(secret), app, {
      dpop: await key.proof('POST', `${TEST_ISSUER}oauth/token`),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<Tokens>();
    expect(body.token_type).toBe('DPoP');
    expect(jwtPayload(body.access_token)['cnf']).toEqual({ jkt: key.jkt });
  });

  it("answers the application's web origins (CORS) on the MFA API", async () => {
    const { user } = await enrolledWithTotp();
    const mfaToken = await mfaTokenFor(user);
    const list = await t.app.inject({
      method: 'GET',
      url: '/mfa/authenticators',
      headers: { authorization: `Bearer ${mfaToken}`, origin: WEB_ORIGIN },
    });
    expect(list.headers['access-control-allow-origin']).toBe(WEB_ORIGIN);
    const asked = await t.app.inject({
      method: 'POST',
      url: '/mfa/challenge',
      headers: { origin: WEB_ORIGIN },
      payload: {
        client_id: app.clientId,
        client_secret: app.clientSecret,
        mfa_token: mfaToken,
        challenge_type: 'otp',
      },
    });
    expect(asked.statusCode).toBe(200);
    expect(asked.headers['access-control-allow-origin']).toBe(WEB_ORIGIN);
    const elsewhere = await t.app.inject({
      method: 'GET',
      url: '/mfa/authenticators',
      headers: { authorization: `Bearer ${mfaToken}`, origin: 'https://evil.example.com' },
    });
    expect(elsewhere.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/mfa/associate',
      headers: { origin: WEB_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(WEB_ORIGIN);
  });

  it('lists the mfa grants in discovery', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json<{
      grant_types_supported: string[];
    }>();
    expect(doc.grant_types_supported).toEqual(expect.arrayContaining([OTP_GRANT, OOB_GRANT, RECOVERY_GRANT]));
  });
});
