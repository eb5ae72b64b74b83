import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { form } from '../../helpers/http.js';
import {
  authorize,
  CookieJar,
  hiddenFields,
  loginThroughPage,
  unescapeHtml,
} from '../../helpers/authorize.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.js';

const CALLBACK = 'https://app.example.com/callback';
const OLD = 'Old-password-horse-1234';
const NEW = 'New-password-battery-5678';

describe.each(testBackends())('"Forgot your password?" from the login page on $name', (backend) => {
  let t: TestApp;
  let smtp: TestSmtpServer;
  let make: Factories;
  let web: Client;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    t = await buildTestApp(backend, { mail: { smtpUrl: smtp.url, from: 'Tenant <no-reply@latchkey.test>' } });
    make = createFactories(t.deps);
    web = await make.client({
      name: 'Orders',
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(web.clientId);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const query = {
    client_id: '',
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'openid',
    state: 'st-reset',
  };
  /** /authorize, the login page, and its "Forgot your password?" link. */
  const start = async (jar: CookieJar) => {
    const res = await authorize(t.app, { ...query, client_id: web.clientId }, jar);
    const login = String(res.headers['location']);
    const page = await t.app.inject({ method: 'GET', url: login, headers: { cookie: jar.header() } });
    const link = /<a href="([^"]+)">Forgot your password\?<\/a>/.exec(page.body)?.[1] ?? '';
    return { login, link: unescapeHtml(link) };
  };
  const get = (url: string, jar: CookieJar) =>
    t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
  const post = (jar: CookieJar, fields: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/u/reset-password/request',
      payload: form(fields).payload,
      headers: { ...form(fields).headers, cookie: jar.header() },
    });
  const sentPage = (email: string, login: string) => [
    '<h1 id="sent-title">Check your email</h1>',
    `<p role="status">If ${email} belongs to an account, we have sent it a link to reset your password. The link is valid for a limited time.</p>`,
    `<a class="button-link" href="${login}">Back to sign in</a>`,
  ];

  it('mails a link that resets the password; the login page then takes the new password', async () => {
    const user = await make.user({ email: 'forgetful@example.com', password: OLD });
    const jar = new CookieJar();
    const { login, link } = await start(jar);
    expect(link).toBe(login.replace('/u/login?', '/u/reset-password/request?'));
    const page = await get(link, jar);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'nonce-/);
    expect(page.body).toContain('<label for="email">Email address</label>');
    expect(page.body.match(/<button/g)).toHaveLength(1);
    expect(hiddenFields(page.body)['csrf']).toMatch(/^[\w-]{32}$/);
    expect(page.body).toContain(`<a href="${login}">Back to sign in</a>`);

    const sent = await post(jar, { ...hiddenFields(page.body), email: 'Forgetful@Example.com' });
    expect(sent.statusCode).toBe(200);
    for (const part of sentPage('Forgetful@Example.com', login)) expect(sent.body).toContain(part);
    expect(sent.body).not.toContain('<form');

    const mail = await smtp.waitFor((m) => m.to === user.email);
    expect(mail.subject).toBe('Reset your Latchkey password');
    const resetLink = /https:\/\/latchkey\.test(\/u\/reset-password\?ticket=[\w%-]+)/.exec(mail.text)?.[1];
    expect(resetLink).toBeDefined();
    const resetPage = await t.app.inject({ method: 'GET', url: resetLink ?? '' });
    expect(resetPage.statusCode).toBe(200);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(resetPage.body)?.[1] ?? '';
    const changed = await t.app.inject({
      method: 'POST',
      url: '/u/reset-password',
      ...form({
        ticket: new URL(`https://x${resetLink ?? ''}`).searchParams.get('ticket') ?? '',
        csrf_token: csrf,
        password: NEW,
        password_confirmation: NEW,
      }),
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.body).toContain('Your password has been changed.');

    // "Back to sign in": the same transaction, which now accepts the new password and not the old one.
    const wrong = await loginThroughPage(t.app, login, jar, {
      username: 'forgetful@example.com',
      password: OLD,
    });
    expect(wrong.result.statusCode).toBe(400);
    const right = await loginThroughPage(t.app, login, jar, {
      username: 'forgetful@example.com',
      password: NEW,
    });
    expect(right.result.statusCode).toBe(302);
    const back = new URL(String(right.result.headers['location']));
    expect(back.searchParams.get('state')).toBe('st-reset');
    expect(back.searchParams.get('code')).toMatch(/^[\w-]{20,}$/);
  });

  it('answers an unknown address exactly as a known one, and mails nothing', async () => {
    const jar = new CookieJar();
    const { login, link } = await start(jar);
    const page = await get(link, jar);
    const before = smtp.messages.length;
    const sent = await post(jar, { ...hiddenFields(page.body), email: 'nobody@example.com' });
    expect(sent.statusCode).toBe(200);
    for (const part of sentPage('nobody@example.com', login)) expect(sent.body).toContain(part);
    await t.deps.events.flush();
    expect(smtp.messages.length).toBe(before);
  });

  it('asks again for an empty address, the form kept', async () => {
    const jar = new CookieJar();
    const { link } = await start(jar);
    const page = await get(link, jar);
    const res = await post(jar, { ...hiddenFields(page.body), email: '  ' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(
      '<div class="alert" role="alert" id="reset-error">Enter your email address.</div>',
    );
    expect(res.body).toContain('<form method="post" action="/u/reset-password/request"');
  });

  it('refuses a forged or foreign form with a 403 page and sends nothing', async () => {
    const user = await make.user({ email: 'target@example.com', password: OLD });
    const jar = new CookieJar();
    const { link } = await start(jar);
    const page = await get(link, jar);
    const fields = { ...hiddenFields(page.body), email: user.email ?? '' };
    const forged = await post(jar, { ...fields, csrf: 'forged' });
    const foreign = await post(new CookieJar(), fields);
    for (const res of [forged, foreign]) {
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('This form could not be verified.');
      expect(res.body).not.toContain('<form');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.messages.some((m) => m.to === user.email)).toBe(false);
  });

  it('shows the error page for an unknown or spent transaction', async () => {
    const res = await get('/u/reset-password/request?state=nope', new CookieJar());
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('Your sign-in took too long or was already completed.');
  });
});
