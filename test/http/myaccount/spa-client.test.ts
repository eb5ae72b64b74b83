import { MyAccountApiClient, MyAccountApiError } from '@auth0/auth0-spa-js';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';
import { myAccountFixture, type MyAccountFixture } from '../../helpers/myaccount.js';
import { codeIn, startTestSmsGateway, type TestSmsGateway } from '../../helpers/sms.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.js';
import { createSoftAuthenticator } from '../../helpers/soft-authenticator.js';

type Fetcher = ConstructorParameters<typeof MyAccountApiClient>[0];

// auth0-spa-js's own MyAccountApiClient (spec 3.8) against the API, its fetcher carried over inject(): the
// SDK builds the URLs and bodies, reads Location and parses every answer as it would in a browser.
describe.each(testBackends())('auth0-spa-js MyAccountApiClient against /me/v1 on $name', (backend) => {
  let t: TestApp;
  let f: MyAccountFixture;
  let smtp: TestSmtpServer;
  let gateway: TestSmsGateway;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    gateway = await startTestSmsGateway();
    t = await buildTestApp(backend, {
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
      mail: { smtpUrl: smtp.url, from: 'Latchkey <no-reply@latchkey.test>' },
      sms: { url: gateway.url, token: undefined },
    });
    f = await myAccountFixture(t);
    await f.activate();
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
    await gateway.close();
  });

  /** The SDK's fetcher: it asks for a token with the call's scopes and sends it as a bearer. */
  const clientFor = (token: string, scopesAsked: string[][]) => {
    const fetcher = {
      async fetchWithAuth(url: string, init: RequestInit, auth: { scope: string[] }) {
        scopesAsked.push(auth.scope);
        const target = new URL(url);
        expect(target.origin).toBe(new URL(TEST_ISSUER).origin);
        const res = await t.app.inject({
          method: init.method as 'GET',
          url: `${target.pathname}${target.search}`,
          headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
          ...(typeof init.body === 'string' ? { payload: init.body } : {}),
        });
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers.set(name, String(value));
        }
        return new Response(res.statusCode === 204 ? null : res.body, { status: res.statusCode, headers });
      },
    };
    return new MyAccountApiClient(fetcher as unknown as Fetcher, `${TEST_ISSUER}me/`);
  };

  it('enrols, lists, renames and deletes a passkey through the SDK', async () => {
    const user = await f.make.user();
    const scopesAsked: string[][] = [];
    const client = clientFor(await f.tokenFor(user), scopesAsked);

    expect(await client.getFactors()).toEqual([{ type: 'passkey', usage: ['primary'] }]);
    const challenge = await client.enrollmentChallenge({ type: 'passkey' });
    expect(challenge).toMatchObject({
      id: 'passkey|new',
      location: `${TEST_ISSUER}me/v1/authentication-methods/passkey%7Cnew`,
      auth_session: expect.any(String),
    });
    const creation = (
      challenge as unknown as {
        authn_params_public_key: Parameters<ReturnType<typeof createSoftAuthenticator>['register']>[0];
      }
    ).authn_params_public_key;
    const authn_response = createSoftAuthenticator().register(creation, 'https://latchkey.test');
    const method = await client.enrollmentVerify({
      type: 'passkey',
      location: challenge.location,
      auth_session: challenge.auth_session,
      authn_response: authn_response as never,
    });
    expect(method).toMatchObject({ type: 'passkey', key_id: authn_response.id });
    const id = (method as { id: string }).id;

    expect(await client.getAuthenticationMethods('passkey')).toEqual([method]);
    expect(await client.updateAuthenticationMethod(id, { name: 'Phone' })).toEqual({
      ...method,
      name: 'Phone',
    });
    expect(await client.getAuthenticationMethod(id)).toEqual({ ...method, name: 'Phone' });
    await client.deleteAuthenticationMethod(id);
    const gone = await client.getAuthenticationMethod(id).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(MyAccountApiError);
    const error = gone as MyAccountApiError;
    expect({
      type: error.type,
      status: error.status,
      title: error.title,
      detail: error.detail,
    }).toEqual({
      type: 'https://auth0.com/api-errors/A0E-404-0001',
      status: 404,
      title: 'Not Found',
      detail: 'The authentication method does not exist.',
    });
    expect(scopesAsked).toEqual([
      ['read:me:factors'],
      ['create:me:authentication_methods'],
      ['create:me:authentication_methods'],
      ['read:me:authentication_methods'],
      ['update:me:authentication_methods'],
      ['read:me:authentication_methods'],
      ['delete:me:authentication_methods'],
      ['read:me:authentication_methods'],
    ]);
  });

  it('enrols a TOTP authenticator through the SDK with a code from another TOTP implementation', async () => {
    const enabled = await api(t.app, {
      method: 'PUT',
      url: '/api/v2/guardian/factors/otp',
      token: await t.managementToken(),
      body: { enabled: true },
    });
    expect(enabled.statusCode).toBe(200);
    const user = await f.make.user();
    const client = clientFor(await f.tokenFor(user), []);
    expect(await client.getFactors()).toEqual([
      { type: 'passkey', usage: ['primary'] },
      { type: 'totp', usage: ['secondary'] },
    ]);
    const challenge = await client.enrollmentChallenge({ type: 'totp' });
    const { manual_input_code: secret, barcode_uri } = challenge as unknown as {
      manual_input_code: string;
      barcode_uri: string;
    };
    expect(challenge.id).toMatch(/^totp\|dev_[A-Za-z0-9]{20}$/);
    expect(challenge.location).toBe(
      `${TEST_ISSUER}me/v1/authentication-methods/${encodeURIComponent(challenge.id)}`,
    );
    expect(barcode_uri).toContain(`?secret=${secret}&`);
    const epoch = Math.floor(t.clock.now() / 1000);
    const code = await generate({ secret, epoch });

    const wrong = await client
      .enrollmentVerify({
        type: 'totp',
        location: challenge.location,
        auth_session: challenge.auth_session,
        otp_code: code === '000000' ? '111111' : '000000',
      } as never)
      .catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(MyAccountApiError);
    expect((wrong as MyAccountApiError).status).toBe(400);
    expect((wrong as MyAccountApiError).detail).toBe('The otp_code is invalid or was already used.');

    const method = await client.enrollmentVerify({
      type: 'totp',
      location: challenge.location,
      auth_session: challenge.auth_session,
      otp_code: code,
    } as never);
    const now = new Date(t.clock.now()).toISOString();
    expect(method).toEqual({
      id: challenge.id,
      type: 'totp',
      usage: ['secondary'],
      created_at: now,
      confirmed: true,
      last_auth_at: now,
    });
    expect(await client.getAuthenticationMethods('totp')).toEqual([method]);
    await client.deleteAuthenticationMethod(challenge.id);
    expect(await client.getAuthenticationMethods('totp')).toEqual([]);
  });

  it('enrols an email and a phone through the SDK with the codes that were sent', async () => {
    for (const factor of ['email', 'sms']) {
      const res = await api(t.app, {
        method: 'PUT',
        url: `/api/v2/guardian/factors/${factor}`,
        token: await t.managementToken(),
        body: { enabled: true },
      });
      expect(res.statusCode).toBe(200);
    }
    const user = await f.make.user();
    const client = clientFor(await f.tokenFor(user), []);
    expect((await client.getFactors()).map((x) => x.type)).toEqual(
      expect.arrayContaining(['phone', 'email']),
    );

    const email = `sdk.${backend.name}@mail.example`;
    const byMail = await client.enrollmentChallenge({ type: 'email', email } as never);
    expect(byMail).toEqual({
      id: expect.stringMatching(/^email\|dev_/) as string,
      auth_session: expect.any(String) as string,
      location: `${TEST_ISSUER}me/v1/authentication-methods/${encodeURIComponent(byMail.id)}`,
    });
    const mailed = codeIn((await smtp.waitFor((m) => m.to === email)).text);
    const emailMethod = await client.enrollmentVerify({
      type: 'email',
      location: byMail.location,
      auth_session: byMail.auth_session,
      otp_code: mailed,
    } as never);
    expect(emailMethod).toMatchObject({ id: byMail.id, type: 'email', email, confirmed: true });

    const phone = '+15555550123';
    const byText = await client.enrollmentChallenge({
      type: 'phone',
      phone_number: phone,
      preferred_authentication_method: 'sms',
    } as never);
    const texted = codeIn((await gateway.waitFor((m) => m.to === phone)).body);
    const phoneMethod = await client.enrollmentVerify({
      type: 'phone',
      location: byText.location,
      auth_session: byText.auth_session,
      otp_code: texted,
    } as never);
    expect(phoneMethod).toMatchObject({
      id: byText.id,
      type: 'phone',
      phone_number: phone,
      preferred_authentication_method: 'sms',
    });
    expect(
      await client.updateAuthenticationMethod(byText.id, { preferred_authentication_method: 'voice' }),
    ).toEqual({ ...phoneMethod, preferred_authentication_method: 'voice' });
    expect((await client.getAuthenticationMethods()).map((m) => m.type).sort()).toEqual([
      'email',
      'password',
      'phone',
    ]);
    await client.deleteAuthenticationMethod(byMail.id);
    await client.deleteAuthenticationMethod(byText.id);
    expect((await client.getAuthenticationMethods()).map((m) => m.type)).toEqual(['password']);
  });
});
