import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { MfaEnrolmentType } from '../../../src/domain/mfa-enrolment.js';
import type { User } from '../../../src/domain/user.js';
import { randomAlphanumeric } from '../../../src/lib/ids.js';
import { hashRecoveryCode, newRecoveryCode } from '../../../src/mfa/recovery-code.js';
import { MFA_ACR } from '../../../src/mfa/second-factor.js';
import { newTotpSecret } from '../../../src/mfa/totp.js';
import { authorize, CookieJar, loginThroughPage, pkcePair, unescapeHtml } from '../../helpers/authorize.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form, jwtPayload } from '../../helpers/http.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.js';

const CALLBACK = 'https://app.example.com/callback';
const PASSWORD = 'Pass-word-123';

/** The forms of a page: each form's action path and hidden fields, in order. */
function forms(html: string): { action: string; fields: Record<string, string> }[] {
  return [...html.matchAll(/<form method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].map((m) => ({
    action: unescapeHtml(m[1] ?? ''),
    fields: Object.fromEntries(
      [...(m[2] ?? '').matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((f) => [
        f[1] ?? '',
        unescapeHtml(f[2] ?? ''),
      ]),
    ),
  }));
}

/** The page's form whose hidden `action` is `action` (and, for `select`, whose factor is of `type`). */
function formFor(html: string, action: string, factorPrefix?: string) {
  const found = forms(html).find(
    (f) =>
      f.fields['action'] === action &&
      (factorPrefix === undefined || f.fields['factor']?.startsWith(factorPrefix)),
  );
  if (!found) throw new Error(`no ${action} form in ${html}`);
  return found;
}

async function post(
  app: FastifyInstance,
  jar: CookieJar,
  path: string,
  fields: Record<string, string>,
): Promise<LightMyRequestResponse> {
  const res = await app.inject({
    method: 'POST',
    url: path,
    ...form(fields),
    headers: { ...form(fields).headers, cookie: jar.header() },
  });
  jar.take(res);
  return res;
}

async function get(app: FastifyInstance, jar: CookieJar, location: string): Promise<LightMyRequestResponse> {
  const res = await app.inject({ method: 'GET', url: location, headers: { cookie: jar.header() } });
  jar.take(res);
  return res;
}

describe.each(testBackends())('the second factor on the hosted login pages on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let smtp: TestSmtpServer;
  let client: Client;
  /** A local SMS gateway: what it received, and whether it refuses the next message. */
  let gateway: Server;
  const texts: { to: string; body: string }[] = [];
  let gatewayDown = false;

  const guardian = async (factors: string[], policies: string[]) => {
    const token = await t.managementToken();
    for (const name of ['otp', 'email', 'sms', 'recovery-code']) {
      const res = await api(t.app, {
        method: 'PUT',
        url: `/api/v2/guardian/factors/${name}`,
        token,
        body: { enabled: factors.includes(name) },
      });
      expect(res.statusCode).toBe(200);
    }
    const res = await api(t.app, { method: 'PUT', url: '/api/v2/guardian/policies', token, body: policies });
    expect(res.statusCode).toBe(200);
  };

  const enrol = async (
    user: User,
    type: MfaEnrolmentType,
    extra: { secret?: string; code?: string; address?: string } = {},
  ) => {
    const at = new Date(t.clock.now()).toISOString();
    await t.deps.store.mfaEnrolments.insert({
      id: `${type}|dev_${randomAlphanumeric(20)}`,
      userId: user.userId,
      type,
      secret: extra.secret,
      codeHash: extra.code === undefined ? undefined : hashRecoveryCode(extra.code),
      confirmed: true,
      name: undefined,
      createdAt: at,
      enrolledAt: at,
      lastAuthAt: undefined,
      ...(extra.address !== undefined ? { address: extra.address } : {}),
    });
  };

  /** The code an authenticator app shows now (otplib, not the server's otpauth), `steps` periods on. */
  const totpCode = (secret: string, steps = 0) =>
    generate({ secret, epoch: Math.floor(t.clock.now() / 1000) + steps * 30 });

  /** /authorize then the password on the login page; answers the response of the login form. */
  const signIn = async (user: User, jar: CookieJar, extra: Record<string, string> = {}) => {
    const pkce = pkcePair();
    const params = {
      client_id: client.clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'openid profile email',
      state: 'st-1',
      nonce: 'n-1',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      ...extra,
    };
    const started = await authorize(t.app, params, jar);
    expect(started.statusCode).toBe(302);
    const { result } = await loginThroughPage(t.app, started.headers.location as string, jar, {
      username: user.email ?? '',
      password: PASSWORD,
    });
    return { result, pkce };
  };

  const exchange = async (location: string, verifier: string) => {
    const url = new URL(location);
    expect(url.origin + url.pathname).toBe(CALLBACK);
    const code = url.searchParams.get('code');
    expect(code, location).toBeTruthy();
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'authorization_code',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        code: code ?? '',
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      }),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ id_token: string; access_token: string }>();
  };

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    gateway = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        if (!gatewayDown) texts.push(JSON.parse(raw) as { to: string; body: string });
        res.writeHead(gatewayDown ? 500 : 200).end();
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    const smsUrl = `http://127.0.0.1:${String((gateway.address() as AddressInfo).port)}/sms`;
    t = await buildTestApp(backend, {
      mail: { smtpUrl: smtp.url, from: 'Acme <no-reply@latchkey.test>' },
      sms: { url: smsUrl, token: 'gateway-token' },
    });
    make = createFactories(t.deps);
    client = await make.client({
      name: 'Shop',
      appType: 'regular_web',
      grantTypes: ['authorization_code', 'refresh_token', 'implicit'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(client.clientId);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
    gateway.close();
  });

  it('challenges a TOTP user after the password, refuses a wrong code, then issues tokens with amr', async () => {
    await guardian(['otp'], ['all-applications']);
    const user = await make.user({ password: PASSWORD });
    const secret = newTotpSecret();
    await enrol(user, 'totp', { secret });
    const jar = new CookieJar();
    const { result, pkce } = await signIn(user, jar);
    expect(result.statusCode).toBe(303);
    const location = result.headers.location as string;
    expect(location).toMatch(/^\/u\/mfa\?state=/);
    // No SSO session yet: only the last step starts it.
    expect(jar.get('auth0')).toBeUndefined();

    const page = await get(t.app, jar, location);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('<label for="code">Code from your authenticator app</label>');
    expect(page.body).toMatch(
      /<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"/,
    );
    const verify = formFor(page.body, 'verify');

    const right = await totpCode(secret);
    const wrong = right === '000000' ? '111111' : '000000';
    const refused = await post(t.app, jar, verify.action, { ...verify.fields, code: wrong });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('<div class="alert" role="alert" id="mfa-error">That code is not right.');
    expect(refused.body).toContain('name="code"');

    const before = Math.floor(t.clock.now() / 1000);
    const done = await post(t.app, jar, verify.action, { ...verify.fields, code: right });
    expect(done.statusCode).toBe(302);
    expect(jar.get('auth0')).toBeTruthy();
    const tokens = await exchange(done.headers.location as string, pkce.verifier);
    const id = jwtPayload(tokens.id_token);
    expect(id['amr']).toEqual(['pwd', 'otp', 'mfa']);
    expect(id['auth_time']).toBe(before);
    // No acr_values asked: no acr.
    expect(id['acr']).toBeUndefined();
    const access = jwtPayload(tokens.access_token);
    expect(access['amr']).toEqual(['pwd', 'otp', 'mfa']);
    expect(access['auth_time']).toBe(before);

    // The same code again (a replayed form): the transaction is gone.
    const replay = await post(t.app, jar, verify.action, { ...verify.fields, code: right });
    expect(replay.statusCode).toBe(400);

    // Auth0's Guardian events: one failure, one success, neither carrying the code.
    await t.deps.events.flush();
    const logs = await api(t.app, {
      method: 'GET',
      url: `/api/v2/logs?per_page=100&q=${encodeURIComponent(`user_id:"${user.userId}"`)}`,
      token: await t.managementToken(),
    });
    const events = logs.json<{ type: string; details?: Record<string, unknown> }[]>();
    expect(events.map((e) => e.type).sort()).toEqual(['gd_auth_failed', 'gd_auth_succeed', 's', 'seacft']);
    expect(JSON.stringify(events)).not.toContain(right);

    // The session is multi-factor: the next authorization needs no second factor.
    const again = await authorize(
      t.app,
      { client_id: client.clientId, redirect_uri: CALLBACK, response_type: 'code', prompt: 'none' },
      jar,
    );
    expect(again.statusCode).toBe(302);
    expect(again.headers.location).toMatch(/^https:\/\/app\.example\.com\/callback\?code=/);
  });

  it('answers 429 once the user made too many wrong codes', async () => {
    await guardian(['otp'], ['all-applications']);
    const user = await make.user({ password: PASSWORD });
    const secret = newTotpSecret();
    await enrol(user, 'totp', { secret });
    const jar = new CookieJar();
    const { result } = await signIn(user, jar);
    const page = await get(t.app, jar, result.headers.location as string);
    const verify = formFor(page.body, 'verify');
    const right = await totpCode(secret);
    const wrong = right === '123456' ? '654321' : '123456';
    let last: LightMyRequestResponse | undefined;
    for (let i = 0; i < 12; i++)
      last = await post(t.app, jar, verify.action, { ...verify.fields, code: wrong });
    expect(last?.statusCode).toBe(429);
    expect(last?.body).toContain('role="alert"');
    expect(last?.body).toContain('Too many wrong codes');
    // Even the right code waits for the throttle.
    const blocked = await post(t.app, jar, verify.action, { ...verify.fields, code: right });
    expect(blocked.statusCode).toBe(429);
  });

  it('takes a recovery code and shows the new one once, then Continue finishes', async () => {
    await guardian(['otp', 'recovery-code'], ['all-applications']);
    const user = await make.user({ password: PASSWORD });
    await enrol(user, 'totp', { secret: newTotpSecret() });
    const code = newRecoveryCode();
    await enrol(user, 'recovery-code', { code });
    const jar = new CookieJar();
    const { result, pkce } = await signIn(user, jar);
    const page = await get(t.app, jar, result.headers.location as string);
    // The challenge opens with the app; the recovery code is one of the other ways.
    expect(page.body).toContain('Use a recovery code');
    const select = formFor(page.body, 'select', 'recovery-code|');
    const switched = await post(t.app, jar, select.action, select.fields);
    expect(switched.statusCode).toBe(303);
    const recoveryPage = await get(t.app, jar, switched.headers.location as string);
    expect(recoveryPage.body).toContain('<label for="code">Recovery code</label>');
    const verify = formFor(recoveryPage.body, 'verify');
    const wrongCode = await post(t.app, jar, verify.action, { ...verify.fields, code: newRecoveryCode() });
    expect(wrongCode.statusCode).toBe(400);
    expect(wrongCode.body).toContain('role="alert"');

    const typed = `${code.slice(0, 12).toLowerCase()} ${code.slice(12)}`;
    const shown = await post(t.app, jar, verify.action, { ...verify.fields, code: typed });
    expect(shown.statusCode).toBe(200);
    const newCode = /<code id="recovery-code"[^>]*>([A-Z0-9]{24})<\/code>/.exec(shown.body)?.[1];
    expect(newCode).toBeDefined();
    expect(newCode).not.toBe(code);
    // The page is not cached: the code is shown only this once.
    expect(shown.headers['cache-control']).toBe('no-store');
    const stored = await t.deps.store.mfaEnrolments.listConfirmed(user.userId, 'recovery-code');
    expect(stored.map((e) => e.codeHash)).toEqual([hashRecoveryCode(newCode ?? '')]);
    // Reloading the step shows Continue without the code.
    const reloaded = await get(t.app, jar, switched.headers.location as string);
    expect(reloaded.body).not.toContain(newCode);

    const go = formFor(shown.body, 'continue');
    const done = await post(t.app, jar, go.action, go.fields);
    expect(done.statusCode).toBe(302);
    const tokens = await exchange(done.headers.location as string, pkce.verifier);
    expect(jwtPayload(tokens.id_token)['amr']).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('sends an email code through SMTP and accepts it', async () => {
    await guardian(['email'], ['all-applications']);
    const user = await make.user({ password: PASSWORD });
    const address = `mfa-${randomAlphanumeric(8).toLowerCase()}@example.com`;
    await enrol(user, 'email', { address });
    const jar = new CookieJar();
    const { result, pkce } = await signIn(user, jar);
    const page = await get(t.app, jar, result.headers.location as string);
    // Nothing is sent by showing the page: the user asks for the code.
    expect(page.body).toContain('We will send a 6-digit code to m••••@example.com.');
    expect(page.body).not.toContain('name="code"');
    const send = formFor(page.body, 'send');
    const sent = await post(t.app, jar, send.action, send.fields);
    expect(sent.statusCode).toBe(303);
    const mail = await smtp.waitFor((m) => m.to === address);
    const code = /\b(\d{6})\b/.exec(mail.text)?.[1] ?? '';
    expect(code).toMatch(/^\d{6}$/);

    const codePage = await get(t.app, jar, sent.headers.location as string);
    expect(codePage.body).toContain('We sent a 6-digit code to m••••@example.com.');
    const verify = formFor(codePage.body, 'verify');
    const wrong = code === '000000' ? '000001' : '000000';
    const refused = await post(t.app, jar, verify.action, { ...verify.fields, code: wrong });
    expect(refused.statusCode).toBe(400);
    const done = await post(t.app, jar, verify.action, { ...verify.fields, code });
    expect(done.statusCode).toBe(302);
    const tokens = await exchange(done.headers.location as string, pkce.verifier);
    expect(jwtPayload(tokens.id_token)['amr']).toEqual(['pwd', 'email', 'mfa']);
  });

  it('switches from the app to a text message, and says so when the SMS gateway refuses', async () => {
    await guardian(['otp', 'sms'], ['all-applications']);
    const user = await make.user({ password: PASSWORD });
    await enrol(user, 'totp', { secret: newTotpSecret() });
    await enrol(user, 'phone', { address: '+15550101234' });
    const jar = new CookieJar();
    const { result, pkce } = await signIn(user, jar);
    const page = await get(t.app, jar, result.headers.location as string);
    expect(page.body).toContain('Text a code to ••••1234');
    const select = formFor(page.body, 'select', 'phone|');

    gatewayDown = true;
    const refused = await post(t.app, jar, select.action, select.fields);
    expect(refused.statusCode).toBe(503);
    expect(refused.body).toContain('role="alert"');
    expect(refused.body).toContain('We could not send the code.');
    gatewayDown = false;

    const sent = await post(t.app, jar, select.action, select.fields);
    expect(sent.statusCode).toBe(303);
    const text = texts.find((m) => m.to === '+15550101234');
    const code = /\b(\d{6})\b/.exec(text?.body ?? '')?.[1] ?? '';
    expect(code).toMatch(/^\d{6}$/);
    const codePage = await get(t.app, jar, sent.headers.location as string);
    expect(codePage.body).toContain('We sent a 6-digit code to ••••1234.');
    // Back to the app is one of the other ways.
    expect(codePage.body).toContain('Use your authenticator app');
    const verify = formFor(codePage.body, 'verify');
    const done = await post(t.app, jar, verify.action, { ...verify.fields, code });
    expect(done.statusCode).toBe(302);
    const tokens = await exchange(done.headers.location as string, pkce.verifier);
    expect(jwtPayload(tokens.id_token)['amr']).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('stops sending codes to a user who asked for too many', async () => {
    await guardian(['sms'], ['all-applications']);
    const user = await make.user({ password: PASSWORD });
    await enrol(user, 'phone', { address: '+15550109999' });
    const jar = new CookieJar();
    const { result } = await signIn(user, jar);
    const page = await get(t.app, jar, result.headers.location as string);
    const send = formFor(page.body, 'send');
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await post(t.app, jar, send.action, send.fields)).statusCode);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(303));
    expect(statuses[10]).toBe(429);
    expect(texts.filter((m) => m.to === '+15550109999')).toHaveLength(10);
  });

  it('enrols an authenticator app for a user with none, with a recovery code after', async () => {
    await guardian(['otp', 'recovery-code'], ['all-applications']);
    const user = await make.user({ password: PASSWORD });
    const jar = new CookieJar();
    const { result, pkce } = await signIn(user, jar);
    expect(result.statusCode).toBe(303);
    expect(result.headers.location).toMatch(/^\/u\/mfa-enrol\?state=/);
    const page = await get(t.app, jar, result.headers.location as string);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<svg');
    const uri = unescapeHtml(/data-uri="([^"]+)"/.exec(page.body)?.[1] ?? '');
    const secret = new URL(uri).searchParams.get('secret') ?? '';
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    expect(page.body).toContain(secret.replace(/(.{4})(?=.)/g, '$1 '));
    const verify = formFor(page.body, 'verify');
    const forged = await post(t.app, jar, verify.action, {
      ...verify.fields,
      csrf: 'forged',
      code: '123456',
    });
    expect(forged.statusCode).toBe(403);
    // The login page of the same transaction is closed while the second factor is asked.
    const back = await get(t.app, jar, `/u/login?state=${encodeURIComponent(verify.fields['state'] ?? '')}`);
    expect(back.statusCode).toBe(400);
    const refused = await post(t.app, jar, verify.action, { ...verify.fields, code: '12' });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('role="alert"');
    const shown = await post(t.app, jar, verify.action, { ...verify.fields, code: await totpCode(secret) });
    expect(shown.statusCode).toBe(200);
    const recovery = /<code id="recovery-code"[^>]*>([A-Z0-9]{24})<\/code>/.exec(shown.body)?.[1] ?? '';
    const confirmed = await t.deps.store.mfaEnrolments.listConfirmed(user.userId);
    expect(confirmed.map((e) => e.type).sort()).toEqual(['recovery-code', 'totp']);
    expect(confirmed.find((e) => e.type === 'recovery-code')?.codeHash).toBe(hashRecoveryCode(recovery));
    const go = formFor(shown.body, 'continue');
    const done = await post(t.app, jar, go.action, go.fields);
    expect(done.statusCode).toBe(302);
    const tokens = await exchange(done.headers.location as string, pkce.verifier);
    expect(jwtPayload(tokens.id_token)['amr']).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('forces a second factor for acr_values with the policy off, and says so in acr', async () => {
    await guardian(['otp'], []);
    const user = await make.user({ password: PASSWORD });
    const secret = newTotpSecret();
    await enrol(user, 'totp', { secret });
    // Without acr_values: the password is enough and the tokens say nothing of MFA.
    const plain = new CookieJar();
    const first = await signIn(user, plain);
    expect(first.result.statusCode).toBe(302);
    const plainTokens = await exchange(first.result.headers.location as string, first.pkce.verifier);
    expect(jwtPayload(plainTokens.id_token)['amr']).toBeUndefined();
    expect(jwtPayload(plainTokens.access_token)['amr']).toBeUndefined();

    const jar = new CookieJar();
    const { result, pkce } = await signIn(user, jar, { acr_values: MFA_ACR });
    expect(result.headers.location).toMatch(/^\/u\/mfa\?state=/);
    const page = await get(t.app, jar, result.headers.location as string);
    const verify = formFor(page.body, 'verify');
    const done = await post(t.app, jar, verify.action, { ...verify.fields, code: await totpCode(secret) });
    const id = jwtPayload((await exchange(done.headers.location as string, pkce.verifier)).id_token);
    expect(id['acr']).toBe(MFA_ACR);
    expect(id['amr']).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('raises an SSO session without MFA for acr_values without the password, and refuses prompt=none', async () => {
    await guardian(['otp'], []);
    const user = await make.user({ password: PASSWORD });
    const secret = newTotpSecret();
    await enrol(user, 'totp', { secret });
    const jar = new CookieJar();
    const firstAt = Math.floor(t.clock.now() / 1000);
    const first = await signIn(user, jar);
    expect(first.result.statusCode).toBe(302);
    t.clock.advance(90_000);
    const sessionCookie = jar.get('auth0');
    expect(sessionCookie).toBeTruthy();

    const pkce = pkcePair();
    const base = {
      client_id: client.clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'openid',
      acr_values: MFA_ACR,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      state: 'st-2',
    };
    const silent = await authorize(t.app, { ...base, prompt: 'none' }, jar);
    expect(silent.statusCode).toBe(302);
    const silentUrl = new URL(silent.headers.location as string);
    expect(silentUrl.searchParams.get('error')).toBe('interaction_required');
    expect(silentUrl.searchParams.get('state')).toBe('st-2');

    const started = await authorize(t.app, base, jar);
    expect(started.statusCode).toBe(302);
    expect(started.headers.location).toMatch(/^\/u\/mfa\?state=/);
    const page = await get(t.app, jar, started.headers.location as string);
    expect(page.body).not.toContain('name="password"');
    const verify = formFor(page.body, 'verify');

    // CSRF: a form without the page's token, or from another browser, is refused.
    const forged = await post(t.app, jar, verify.action, { ...verify.fields, csrf: 'x', code: '000000' });
    expect(forged.statusCode).toBe(403);
    const otherBrowser = await t.app.inject({
      method: 'POST',
      url: verify.action,
      ...form({ ...verify.fields, code: '000000' }),
    });
    expect(otherBrowser.statusCode).toBe(403);
    const unknown = await post(t.app, jar, verify.action, {
      ...verify.fields,
      state: 'nope',
      code: '000000',
    });
    expect(unknown.statusCode).toBe(400);

    const done = await post(t.app, jar, verify.action, { ...verify.fields, code: await totpCode(secret) });
    expect(done.statusCode).toBe(302);
    // The same session goes on, now multi-factor.
    expect(jar.get('auth0')).toBe(sessionCookie);
    const id = jwtPayload((await exchange(done.headers.location as string, pkce.verifier)).id_token);
    expect(id['acr']).toBe(MFA_ACR);
    expect(id['amr']).toEqual(['pwd', 'otp', 'mfa']);
    // auth_time stays the first factor's: the session's sign-in, not the later second factor.
    expect(id['auth_time']).toBe(firstAt);

    // Now prompt=none with acr_values passes.
    const after = await authorize(t.app, { ...base, prompt: 'none', state: 'st-3' }, jar);
    expect(new URL(after.headers.location as string).searchParams.get('code')).toBeTruthy();
    // max_age counts from the first factor: past it, the password again.
    const stale = await authorize(t.app, { ...base, max_age: '30' }, jar);
    expect(stale.headers.location).toMatch(/^\/u\/login\?state=/);
    // prompt=login still asks for the password.
    const login = await authorize(t.app, { ...base, prompt: 'login' }, jar);
    expect(login.headers.location).toMatch(/^\/u\/login\?state=/);
  });

  it('gives implicit tokens the amr of a multi-factor sign-in', async () => {
    await guardian(['otp'], ['all-applications']);
    const user = await make.user({ password: PASSWORD });
    const secret = newTotpSecret();
    await enrol(user, 'totp', { secret });
    const jar = new CookieJar();
    const started = await authorize(
      t.app,
      {
        client_id: client.clientId,
        redirect_uri: CALLBACK,
        response_type: 'id_token',
        scope: 'openid',
        nonce: 'n-2',
        acr_values: MFA_ACR,
      },
      jar,
    );
    const { result } = await loginThroughPage(t.app, started.headers.location as string, jar, {
      username: user.email ?? '',
      password: PASSWORD,
    });
    const page = await get(t.app, jar, result.headers.location as string);
    const verify = formFor(page.body, 'verify');
    const done = await post(t.app, jar, verify.action, { ...verify.fields, code: await totpCode(secret) });
    expect(done.statusCode).toBe(302);
    const fragment = new URLSearchParams(new URL(done.headers.location as string).hash.slice(1));
    const id = jwtPayload(fragment.get('id_token') ?? '');
    expect(id['amr']).toEqual(['pwd', 'otp', 'mfa']);
    expect(id['acr']).toBe(MFA_ACR);
  });

  it('refuses the authorization when a second factor is needed and none can be used or enrolled', async () => {
    await guardian([], []);
    const user = await make.user({ password: PASSWORD });
    const jar = new CookieJar();
    const { result } = await signIn(user, jar, { acr_values: MFA_ACR });
    expect(result.statusCode).toBe(302);
    const url = new URL(result.headers.location as string);
    expect(url.searchParams.get('error')).toBe('access_denied');
  });
});
