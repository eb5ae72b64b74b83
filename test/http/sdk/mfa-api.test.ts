import { AuthClient, isMfaRequiredError, MfaVerifyError, MfaEnrollmentError } from '@auth0/auth0-auth-js';
import { AuthenticationClient, type AuthApiError } from 'auth0/legacy';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { jwtPayload } from '../../helpers/http.js';
import { configureMfa, sixDigits } from '../../helpers/mfa.js';
import { SDK_DOMAIN } from '../../helpers/sdk.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.js';

const PASSWORD = 'Pass-word-123';
const OTP_GRANT = 'http://auth0.com/oauth/grant-type/mfa-otp';
const OOB_GRANT = 'http://auth0.com/oauth/grant-type/mfa-oob';
const RECOVERY_GRANT = 'http://auth0.com/oauth/grant-type/mfa-recovery-code';

// auth0 v7's AuthenticationClient (its `auth0/legacy` entry point) has no MFA API methods: it is used for the
// password grant that answers mfa_required. The MFA API itself is driven by @auth0/auth0-auth-js's
// `AuthClient.mfa` (the MfaClient that auth0-spa-js's MfaApiClient wraps).
describe.each(testBackends())('MFA API through auth0 v7 and @auth0/auth0-auth-js on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let smtp: TestSmtpServer;
  let app: Client;
  let apiId: string;
  let origin: string;
  let legacy: AuthenticationClient;
  let authJs: AuthClient;

  /** The SDKs speak https://latchkey.test; this sends their requests to the http listener. */
  const local: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const { dispatcher: _dispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
    if (input instanceof Request) {
      return fetch(new Request(`${origin}${url.pathname}${url.search}`, input), rest);
    }
    return fetch(`${origin}${url.pathname}${url.search}`, rest);
  };

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    t = await buildTestApp(backend, {
      mail: { smtpUrl: smtp.url, from: 'Test Tenant <no-reply@latchkey.test>' },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address ? String(address.port) : '0'}`;
    make = createFactories(t.deps);
    app = await make.client({
      appType: 'regular_web',
      grantTypes: [
        'password',
        'http://auth0.com/oauth/grant-type/password-realm',
        'refresh_token',
        OTP_GRANT,
        OOB_GRANT,
        RECOVERY_GRANT,
      ],
    });
    await make.enableConnection(app.clientId);
    apiId = (await make.api({ scopes: [{ value: 'read:x' }] })).identifier;
    await make.grant({ clientId: app.clientId, audience: apiId, scope: ['read:x'] });
    await configureMfa(t, { otp: true, email: true, 'recovery-code': true }, ['all-applications']);
    legacy = new AuthenticationClient({
      domain: SDK_DOMAIN,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      fetch: local,
    });
    authJs = new AuthClient({
      domain: SDK_DOMAIN,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      customFetch: local,
    });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const codeOf = (secret: string) => generate({ secret, epoch: Math.floor(t.clock.now() / 1000) });

  async function mfaTokenByAuthJs(user: User): Promise<string> {
    const error: unknown = await authJs
      .getTokenByPassword({
        username: user.email ?? '',
        password: PASSWORD,
        audience: apiId,
        scope: 'openid read:x',
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    if (!isMfaRequiredError(error)) throw new Error(`expected mfa_required, got ${String(error)}`);
    expect(error.cause).toMatchObject({
      error: 'mfa_required',
      error_description: 'Multifactor authentication required',
    });
    return error.cause.mfa_token;
  }

  it("surfaces mfa_required from auth0 v7's password grant as an AuthApiError carrying the mfa_token", async () => {
    const user = await make.user();
    const error = (await legacy.oauth
      .passwordGrant({ username: user.email ?? '', password: PASSWORD, audience: apiId })
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as AuthApiError | undefined;
    expect(error).toMatchObject({
      error: 'mfa_required',
      error_description: 'Multifactor authentication required',
      statusCode: 403,
    } satisfies Partial<AuthApiError>);
    expect(JSON.parse(error?.body ?? '{}')).toMatchObject({ mfa_token: expect.any(String) as unknown });
    // The realm variant (password-realm grant) is asked too.
    await expect(
      legacy.oauth.passwordGrant({
        username: user.email ?? '',
        password: PASSWORD,
        realm: 'Username-Password-Authentication',
      }),
    ).rejects.toMatchObject({ error: 'mfa_required' });
  });

  it('enrols TOTP, verifies it, then challenges and verifies again with AuthClient.mfa', async () => {
    const user = await make.user();
    const mfaToken = await mfaTokenByAuthJs(user);
    expect(await authJs.mfa.listAuthenticators({ mfaToken })).toEqual([]);
    const enrolled = await authJs.mfa.enrollAuthenticator({ authenticatorTypes: ['otp'], mfaToken });
    expect(enrolled).toMatchObject({
      authenticatorType: 'otp',
      secret: expect.any(String) as unknown,
      barcodeUri: expect.stringMatching(/^otpauth:\/\/totp\//) as unknown,
      recoveryCodes: [expect.any(String) as unknown],
    });
    const secret = enrolled.authenticatorType === 'otp' ? enrolled.secret : '';
    const wrong = await authJs.mfa
      .verify({ mfaToken, factorType: 'otp', otp: '000000' })
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(MfaVerifyError);
    expect((wrong as MfaVerifyError).cause).toMatchObject({
      error: 'invalid_grant',
      error_description: 'Invalid otp_code.',
    });
    const tokens = await authJs.mfa.verify({ mfaToken, factorType: 'otp', otp: await codeOf(secret) });
    expect(jwtPayload(tokens.accessToken)['amr']).toEqual(['pwd', 'otp', 'mfa']);
    expect(tokens.idToken).toEqual(expect.any(String));

    t.clock.advance(30_000);
    const next = await mfaTokenByAuthJs(user);
    const listed = await authJs.mfa.listAuthenticators({ mfaToken: next });
    expect(listed.map((a) => [a.authenticatorType, a.active])).toEqual([
      ['recovery-code', true],
      ['otp', true],
    ]);
    expect(await authJs.mfa.challengeAuthenticator({ challengeType: 'otp', mfaToken: next })).toEqual({
      challengeType: 'otp',
    });
    const again = await authJs.mfa.verify({ mfaToken: next, factorType: 'otp', otp: await codeOf(secret) });
    expect(jwtPayload(again.accessToken)['sub']).toBe(user.userId);
    // A second enrolment needs more than an mfa_token.
    const refused = await authJs.mfa
      .enrollAuthenticator({ authenticatorTypes: ['otp'], mfaToken: await mfaTokenByAuthJs(user) })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MfaEnrollmentError);
    expect((refused as MfaEnrollmentError).cause).toMatchObject({ error: 'access_denied' });

    // A recovery code signs in and is replaced.
    const third = await mfaTokenByAuthJs(user);
    const recovered = await authJs.mfa.verify({
      mfaToken: third,
      factorType: 'recovery-code',
      recoveryCode: enrolled.recoveryCodes?.[0] ?? '',
    });
    expect(recovered.recoveryCode).toMatch(/^[A-Z0-9]{24}$/);

    // The recovery code can be deleted; the last real factor cannot.
    const fourth = await mfaTokenByAuthJs(user);
    const factors = await authJs.mfa.listAuthenticators({ mfaToken: fourth });
    const recovery = factors.find((a) => a.authenticatorType === 'recovery-code');
    const otp = factors.find((a) => a.authenticatorType === 'otp');
    await authJs.mfa.deleteAuthenticator({ authenticatorId: recovery?.id ?? '', mfaToken: fourth });
    await expect(
      authJs.mfa.deleteAuthenticator({ authenticatorId: otp?.id ?? '', mfaToken: fourth }),
    ).rejects.toThrow(
      'The last authenticator cannot be removed without completing multifactor authentication.',
    );
    expect((await authJs.mfa.listAuthenticators({ mfaToken: fourth })).map((a) => a.id)).toEqual([otp?.id]);
  });

  it('enrols email and verifies the emailed code with AuthClient.mfa (mfa-oob)', async () => {
    const user = await make.user({ email: 'sdk.mfa.mail@example.com' });
    const mfaToken = await mfaTokenByAuthJs(user);
    const enrolled = await authJs.mfa.enrollAuthenticator({
      authenticatorTypes: ['oob'],
      oobChannels: ['email'],
      mfaToken,
    });
    expect(enrolled).toMatchObject({
      authenticatorType: 'oob',
      oobChannel: 'email',
      bindingMethod: 'prompt',
    });
    const mail = await smtp.waitFor((m) => m.to.includes('sdk.mfa.mail@example.com'));
    const tokens = await authJs.mfa.verify({
      mfaToken,
      factorType: 'oob',
      oobCode: enrolled.authenticatorType === 'oob' ? (enrolled.oobCode ?? '') : '',
      bindingCode: sixDigits(mail.text),
    });
    expect(jwtPayload(tokens.accessToken)['amr']).toEqual(['pwd', 'email', 'mfa']);
    const next = await mfaTokenByAuthJs(user);
    const [factor] = await authJs.mfa.listAuthenticators({ mfaToken: next });
    const challenge = await authJs.mfa.challengeAuthenticator({
      challengeType: 'oob',
      authenticatorId: factor?.id ?? '',
      mfaToken: next,
    });
    expect(challenge).toMatchObject({
      challengeType: 'oob',
      oobCode: expect.any(String) as unknown,
      bindingMethod: 'prompt',
    });
    const second = await smtp.waitFor((m) => m.to.includes('sdk.mfa.mail@example.com') && m !== mail);
    const done = await authJs.mfa.verify({
      mfaToken: next,
      factorType: 'oob',
      oobCode: challenge.oobCode ?? '',
      bindingCode: sixDigits(second.text),
    });
    expect(jwtPayload(done.accessToken)['sub']).toBe(user.userId);
  });
});
