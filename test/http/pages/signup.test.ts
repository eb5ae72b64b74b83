import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form, jwtPayload } from '../../helpers/http.js';
import { authorize, CookieJar, hiddenFields, pkcePair } from '../../helpers/authorize.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.js';

const CALLBACK = 'https://app.example.com/callback';
const STRONG = 'Correct-Horse-42';
// The default connection asks for 12 characters and has the dictionary and personal-data checks on.
const FAIR_RULES = [
  'It must be at least 12 characters in length.',
  'It must contain lower case letters (a-z), upper case letters (A-Z), numbers (0-9).',
  'It must not be a commonly used password.',
  'It must not contain your name or email address.',
];

describe.each(testBackends())('the hosted sign-up page on $name', (backend) => {
  let t: TestApp;
  let smtp: TestSmtpServer;
  let make: Factories;
  let spa: Client;
  let closed: Client;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    t = await buildTestApp(backend, { mail: { smtpUrl: smtp.url, from: 'Tenant <no-reply@latchkey.test>' } });
    make = createFactories(t.deps);
    spa = await make.client({
      name: 'Shop',
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      settings: { callbacks: [CALLBACK] },
    });
    closed = await make.client({
      name: 'Back Office',
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(spa.clientId);
    const connection = await t.deps.store.connections.findByName('Username-Password-Authentication');
    if (!connection) throw new Error('no default connection');
    await t.deps.store.connections.update({
      ...connection,
      options: { ...connection.options, passwordPolicy: 'fair' },
    });
    t.deps.lookups.invalidate();
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/connections',
      token: await t.managementToken(),
      body: {
        name: 'Staff',
        strategy: 'auth0',
        enabled_clients: [closed.clientId],
        options: { disable_signup: true },
      },
    });
    expect(created.statusCode).toBe(201);
    await make.user({ email: 'taken@example.com' });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const params = (c: Client, extra: Record<string, string> = {}) => ({
    client_id: c.clientId,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'openid profile email',
    state: 'st-signup',
    nonce: 'n-signup',
    ...extra,
  });

  /** /authorize then the login page, whose "Sign up" link (when there is one) is returned with the page. */
  const loginPage = async (jar: CookieJar, query: Record<string, string>) => {
    const start = await authorize(t.app, query, jar);
    expect(start.statusCode).toBe(302);
    const page = await t.app.inject({
      method: 'GET',
      url: String(start.headers['location']),
      headers: { cookie: jar.header() },
    });
    const link = /<a href="([^"]+)">Sign up<\/a>/.exec(page.body)?.[1];
    return { start, page, signupLink: link?.replaceAll('&amp;', '&') };
  };
  const get = (url: string, jar: CookieJar) =>
    t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
  const post = async (jar: CookieJar, fields: Record<string, string>) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/u/signup',
      payload: form(fields).payload,
      headers: { ...form(fields).headers, cookie: jar.header() },
    });
    jar.take(res);
    return res;
  };
  const alertOf = (html: string) =>
    /<div class="alert" role="alert" id="signup-error">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
  const listItems = (html: string) => [...html.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1]);

  it('is linked from the login page; signing up creates the user, logs ss, mails a verification and returns a code for that user', async () => {
    const jar = new CookieJar();
    const pkce = pkcePair();
    const { signupLink, page } = await loginPage(
      jar,
      params(spa, { code_challenge: pkce.challenge, code_challenge_method: 'S256' }),
    );
    expect(page.body).toContain('Don&#39;t have an account?');
    expect(signupLink).toMatch(/^\/u\/signup\?state=[\w-]+$/);
    const signup = await get(signupLink ?? '', jar);
    expect(signup.statusCode).toBe(200);
    expect(signup.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(signup.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'nonce-/);
    expect(signup.body).toContain('<h1 id="signup-title">Create your account</h1>');
    expect(signup.body).toContain('Sign up to Latchkey to continue to Shop.');
    expect(signup.body).toMatch(/<input id="email" name="email" type="email" autocomplete="email"/);
    expect(signup.body).toMatch(
      /<input id="password" name="password" type="password" autocomplete="new-password"/,
    );
    expect(signup.body.match(/<button/g)).toHaveLength(1);
    expect(listItems(signup.body)).toEqual(FAIR_RULES);

    const res = await post(jar, {
      ...hiddenFields(signup.body),
      email: 'New.Person@Example.com',
      password: STRONG,
    });
    expect(res.statusCode).toBe(302);
    const back = new URL(String(res.headers['location']));
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    expect(back.searchParams.get('state')).toBe('st-signup');
    expect(jar.get('auth0')).toMatch(/^[\w-]{43}$/);

    const [user] = await t.deps.store.users.findByEmail('new.person@example.com');
    expect(user?.emailVerified).toBe(false);
    const tokens = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'authorization_code',
        client_id: spa.clientId,
        redirect_uri: CALLBACK,
        code: back.searchParams.get('code') ?? '',
        code_verifier: pkce.verifier,
      }),
    });
    expect(tokens.statusCode).toBe(200);
    const id = jwtPayload(tokens.json<{ id_token: string }>().id_token);
    expect(id).toMatchObject({ iss: TEST_ISSUER, sub: user?.userId, aud: spa.clientId, nonce: 'n-signup' });
    expect(id['email']).toBe('new.person@example.com');

    const mail = await smtp.waitFor((m) => m.to === 'new.person@example.com');
    expect(mail.subject).toBe('Verify your email for Latchkey');
    expect(mail.text).toMatch(/https:\/\/latchkey\.test\/u\/email-verification\?ticket=/);

    await t.deps.events.flush();
    const logs = await api(t.app, {
      method: 'GET',
      url: `/api/v2/logs?q=${encodeURIComponent('type:ss')}`,
      token: await t.managementTokenWith(['read:logs']),
    });
    expect(logs.json<Record<string, unknown>[]>()).toEqual([
      expect.objectContaining({
        type: 'ss',
        description: 'Successful signup',
        client_id: spa.clientId,
        client_name: 'Shop',
        connection: 'Username-Password-Authentication',
        user_id: user?.userId,
        user_name: 'new.person@example.com',
      }),
    ]);
    // Signed up is signed in: the login is logged too.
    const logins = await api(t.app, {
      method: 'GET',
      url: `/api/v2/logs?q=${encodeURIComponent(`type:s AND user_id:"${user?.userId ?? ''}"`)}`,
      token: await t.managementTokenWith(['read:logs']),
    });
    expect(logins.json<Record<string, unknown>[]>()).toEqual([
      expect.objectContaining({ type: 's', client_id: spa.clientId, user_id: user?.userId }),
    ]);
  });

  it('refuses a weak password with a 400 page listing the broken rules, the form and the email kept', async () => {
    const jar = new CookieJar();
    const { signupLink } = await loginPage(
      jar,
      params(spa, { code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }),
    );
    const signup = await get(signupLink ?? '', jar);
    const res = await post(jar, {
      ...hiddenFields(signup.body),
      email: 'weak@example.com',
      password: 'short',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['location']).toBeUndefined();
    expect(alertOf(res.body)).toContain(
      '<strong>Choose a stronger password. This one breaks these rules:</strong>',
    );
    expect(listItems(alertOf(res.body))).toEqual([
      'It must be at least 12 characters in length.',
      'It must contain lower case letters (a-z), upper case letters (A-Z), numbers (0-9) (missing: upper case letters (A-Z), numbers (0-9)).',
    ]);
    expect(res.body).toContain('value="weak@example.com"');
    expect(res.body).toContain('<form method="post" action="/u/signup"');
    expect(await t.deps.store.users.findByEmail('weak@example.com')).toEqual([]);
    // The transaction is still there: a good password now goes through.
    const ok = await post(jar, { ...hiddenFields(res.body), email: 'weak@example.com', password: STRONG });
    expect(ok.statusCode).toBe(302);
  });

  it('answers an email that already has an account with the same words as any refusal', async () => {
    const jar = new CookieJar();
    const { signupLink } = await loginPage(
      jar,
      params(spa, { code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }),
    );
    const signup = await get(signupLink ?? '', jar);
    const res = await post(jar, {
      ...hiddenFields(signup.body),
      email: 'taken@example.com',
      password: STRONG,
    });
    expect(res.statusCode).toBe(400);
    expect(alertOf(res.body).trim()).toBe(
      '<strong>We could not sign you up with these details. If you already have an account, log in or reset your password.</strong>',
    );
    expect(res.body).toContain('value="taken@example.com"');
    // The log says what happened; the page does not.
    await t.deps.events.flush();
    const logs = await api(t.app, {
      method: 'GET',
      url: `/api/v2/logs?q=${encodeURIComponent('type:fs AND user_name:"taken@example.com"')}`,
      token: await t.managementTokenWith(['read:logs']),
    });
    expect(logs.json<Record<string, unknown>[]>()).toEqual([
      expect.objectContaining({
        type: 'fs',
        description: 'The user already exists.',
        client_id: spa.clientId,
      }),
    ]);
  });

  it('opens directly with screen_hint=signup', async () => {
    const jar = new CookieJar();
    const start = await authorize(
      t.app,
      params(spa, {
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
        screen_hint: 'signup',
      }),
      jar,
    );
    expect(start.statusCode).toBe(302);
    expect(String(start.headers['location'])).toMatch(/^\/u\/signup\?state=[\w-]+$/);
    const page = await get(String(start.headers['location']), jar);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Create your account');
  });

  it('with disable_signup: no link on the login page, and the page and its form refuse', async () => {
    const jar = new CookieJar();
    const { start, page } = await loginPage(jar, params(closed, { connection: 'Staff' }));
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('Sign up');
    const state = new URL(String(start.headers['location']), TEST_ISSUER).searchParams.get('state') ?? '';
    const refused = await get(`/u/signup?state=${state}`, jar);
    expect(refused.statusCode).toBe(403);
    expect(alertOf(refused.body)).toContain(
      'Sign-up is not available for this application. Log in with an existing account.',
    );
    expect(refused.body).not.toContain('<form');
    const posted = await post(jar, {
      ...hiddenFields(page.body),
      email: 'sneaky@example.com',
      password: STRONG,
    });
    expect(posted.statusCode).toBe(403);
    expect(await t.deps.store.users.findByEmail('sneaky@example.com')).toEqual([]);
  });

  it('refuses a form without the CSRF token or from another browser with a 403 page', async () => {
    const jar = new CookieJar();
    const { signupLink } = await loginPage(
      jar,
      params(spa, { code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }),
    );
    const signup = await get(signupLink ?? '', jar);
    const fields = { ...hiddenFields(signup.body), email: 'csrf@example.com', password: STRONG };
    const noToken = await post(jar, { ...fields, csrf: 'forged' });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.body).toContain('This form could not be verified.');
    expect(noToken.body).not.toContain('<form');
    const elsewhere = await post(new CookieJar(), fields);
    expect(elsewhere.statusCode).toBe(403);
    expect(await t.deps.store.users.findByEmail('csrf@example.com')).toEqual([]);
  });
});
