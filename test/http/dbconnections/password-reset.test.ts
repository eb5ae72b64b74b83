import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form } from '../../helpers/http.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.js';

const CONNECTION = 'Username-Password-Authentication';
const OLD = 'old-password-horse-1234';
const NEW = 'new-password-battery-5678';
const ANSWER = "We've just sent you an email to reset your password.";

describe.each(testBackends())('password reset by email on $name', (backend) => {
  let t: TestApp;
  let smtp: TestSmtpServer;
  let make: Factories;
  let client: Client;
  let token: string;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    t = await buildTestApp(backend, {
      mail: { smtpUrl: smtp.url, from: 'Test Tenant <no-reply@latchkey.test>' },
    });
    make = createFactories(t.deps);
    client = await make.client({ appType: 'regular_web', grantTypes: ['password'] });
    await make.enableConnection(client.clientId);
    token = await t.managementToken();
    await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token,
      body: { friendly_name: 'Acme Corp' },
    });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const changePassword = (email: string) =>
    t.app.inject({
      method: 'POST',
      url: '/dbconnections/change_password',
      payload: { client_id: client.clientId, connection: CONNECTION, email },
    });
  const signIn = (username: string, password: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        username,
        password,
      }),
    });
  const linkIn = (text: string) => {
    const match = /https:\/\/latchkey\.test\/u\/reset-password\?ticket=[\w%-]+/.exec(text);
    if (!match) throw new Error(`no reset link in: ${text}`);
    return new URL(match[0]);
  };
  const csrfIn = (html: string) => /name="csrf_token" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const submit = (ticket: string, fields: Record<string, string>) =>
    t.app.inject({ method: 'POST', url: '/u/reset-password', ...form({ ticket, ...fields }) });

  it('answers the same for a known and an unknown email; only the known one gets mail', async () => {
    const user = await make.user({ email: 'reset.me@example.com', password: OLD });
    const known = await changePassword('Reset.Me@example.com');
    const unknown = await changePassword('nobody-here@example.com');
    for (const res of [known, unknown]) {
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(ANSWER);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    }
    const mail = await smtp.waitFor((m) => m.to === user.email);
    expect(mail.subject).toBe('Reset your Acme Corp password');
    expect(mail.from).toBe('"Test Tenant" <no-reply@latchkey.test>');
    expect(mail.text).toContain('Acme Corp');
    expect(linkIn(mail.html).href).toBe(linkIn(mail.text).href);
    // Give a stray message to the unknown address the time to arrive, then prove none did.
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.messages.filter((m) => m.to.includes('nobody-here'))).toEqual([]);
  });

  it('follows the emailed link: the page, a new password, sign-in with it and not the old one', async () => {
    const user = await make.user({ email: 'follow.link@example.com', password: OLD });
    await changePassword(user.email ?? '');
    const mail = await smtp.waitFor((m) => m.to === user.email);
    const link = linkIn(mail.text);
    const ticket = link.searchParams.get('ticket') ?? '';

    const page = await t.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'nonce-/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toContain('Acme Corp');
    expect(page.body).toContain('<h1 id="title">Reset your password</h1>');
    expect(page.body).toContain('<p>Choose a new password for <strong>follow.link@example.com</strong>.</p>');
    expect(page.body).toContain('<ul class="rules" aria-label="Password rules">');
    expect(page.body).toContain('<button class="button" type="submit">Reset password</button>');
    expect(page.body).toContain('<label for="password_confirmation">Confirm new password</label>');
    expect(page.body).toMatch(
      /<label for="password">New password<\/label>\s*<input id="password" name="password" type="password"/,
    );
    expect(page.body).toMatch(
      /<input id="password_confirmation" name="password_confirmation" type="password"/,
    );
    expect(page.body).toContain('It must be at least 12 characters in length.');
    expect(page.body.match(/<button/g)).toHaveLength(1);
    // No secret on the page: no password hash, no client secret, no server secret.
    expect(page.body).not.toContain('$argon2');
    expect(page.body).not.toContain(client.clientSecret);
    expect(page.body).not.toContain(t.deps.config.secret);
    const csrf = csrfIn(page.body);
    expect(csrf).not.toBe('');

    // A weak password: the form comes back with the error in an alert, and the ticket still works.
    const weak = await submit(ticket, {
      csrf_token: csrf,
      password: 'short',
      password_confirmation: 'short',
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toMatch(
      /<div class="alert" role="alert" id="reset-password-error">\s*<strong>Password is too weak\.<\/strong>/,
    );
    expect(weak.body).toContain('aria-describedby="reset-password-error" autofocus>');
    expect(weak.body).toContain('<form method="post"');

    const mismatch = await submit(ticket, {
      csrf_token: csrf,
      password: NEW,
      password_confirmation: `${NEW}x`,
    });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain('The passwords do not match.');

    const forged = await submit(ticket, { csrf_token: 'forged', password: NEW, password_confirmation: NEW });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('The form has expired. Enter your new password again.');
    const empty = await submit(ticket, { csrf_token: csrf, password: '', password_confirmation: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('<strong>Enter a new password.</strong>');

    const done = await submit(ticket, { csrf_token: csrf, password: NEW, password_confirmation: NEW });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('<h1 id="title">Password changed</h1>');
    expect(done.body).toContain(
      '<p role="status">Your password has been changed. You can now sign in with it.</p>',
    );
    expect(done.body).not.toContain('<form');

    expect((await signIn('follow.link@example.com', NEW)).statusCode).toBe(200);
    const old = await signIn('follow.link@example.com', OLD);
    expect(old.statusCode).toBe(403);
    expect(old.json()).toMatchObject({ error: 'invalid_grant' });

    // Single use: the link now shows an error page with no form.
    const again = await t.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('<h1 id="title">Link expired</h1>');
    expect(again.body).toContain(
      '<p role="alert">This link has expired or has already been used. Ask for a new one.</p>',
    );
    expect(again.body).not.toContain('<form');
    const replay = await submit(ticket, {
      csrf_token: csrf,
      password: 'another-password-9999',
      password_confirmation: 'another-password-9999',
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.body).not.toContain('<form');

    await t.deps.events.flush();
    const logs = (await api(t.app, { method: 'GET', url: '/api/v2/logs?per_page=100', token })).json<
      { type: string; user_id?: string }[]
    >();
    const mine = logs.filter((e) => e.user_id === user.userId).map((e) => e.type);
    expect(mine).toContain('scp');
    expect(mine).toContain('fcp');
    expect(mine).toContain('scpr');
  });

  it('sign-up emails a verification link that verifies the address', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/dbconnections/signup',
      payload: {
        client_id: client.clientId,
        connection: CONNECTION,
        email: 'fresh@example.com',
        password: NEW,
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    const mail = await smtp.waitFor((m) => m.to === 'fresh@example.com');
    expect(mail.subject).toBe('Verify your email for Acme Corp');
    const link = new URL(
      /https:\/\/latchkey\.test\/u\/email-verification\?ticket=[\w%-]+/.exec(mail.text)?.[0] ?? '',
    );
    expect((await t.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` })).statusCode).toBe(
      200,
    );
    const userId = `auth0|${res.json<{ _id: string }>()._id}`;
    const after = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(userId)}`,
      token,
    });
    expect(after.json()).toMatchObject({ email_verified: true });
  });

  it('a ticket expires with the app clock', async () => {
    const user = await make.user({ email: 'expires@example.com', password: OLD });
    const res = await api(t.app, {
      method: 'POST',
      url: '/api/v2/tickets/password-change',
      token,
      body: { user_id: user.userId, ttl_sec: 60 },
    });
    expect(res.statusCode, res.body).toBe(201);
    const link = new URL(res.json<{ ticket: string }>().ticket);
    expect(link.origin + link.pathname).toBe('https://latchkey.test/u/reset-password');
    const before = await t.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    expect(before.statusCode).toBe(200);
    t.clock.advance(61_000);
    const after = await t.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    expect(after.statusCode).toBe(400);
    expect(after.body).not.toContain('<form');
  });

  it('Management tickets: by email + connection_id, result_url, mark_email_as_verified, includeEmailInRedirect', async () => {
    const user = await make.user({ email: 'ticketed@example.com', password: OLD, emailVerified: false });
    const connection = await t.deps.store.connections.findByName(CONNECTION);
    const res = await api(t.app, {
      method: 'POST',
      url: '/api/v2/tickets/password-change',
      token,
      body: {
        email: 'Ticketed@example.com',
        connection_id: connection?.id,
        result_url: 'https://app.example.com/done',
        mark_email_as_verified: true,
        includeEmailInRedirect: true,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const link = new URL(res.json<{ ticket: string }>().ticket);
    const page = await t.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    const done = await submit(link.searchParams.get('ticket') ?? '', {
      csrf_token: csrfIn(page.body),
      password: NEW,
      password_confirmation: NEW,
    });
    expect(done.statusCode).toBe(302);
    const location = new URL(done.headers.location ?? '');
    expect(location.origin + location.pathname).toBe('https://app.example.com/done');
    expect(location.searchParams.get('success')).toBe('true');
    expect(location.searchParams.get('email')).toBe('ticketed@example.com');
    // Auth0's own wording: an application may compare it.
    expect(location.searchParams.get('message')).toBe('Your password has been changed successfully.');
    const after = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      token,
    });
    expect(after.json()).toMatchObject({ email_verified: true });
  });

  it('Management tickets refuse bad input', async () => {
    const missing = await api(t.app, {
      method: 'POST',
      url: '/api/v2/tickets/password-change',
      token,
      body: {},
    });
    expect(missing.statusCode).toBe(400);
    const unknown = await api(t.app, {
      method: 'POST',
      url: '/api/v2/tickets/password-change',
      token,
      body: { user_id: 'auth0|nobody' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ errorCode: 'inexistent_user' });
  });

  it('email verification: ticket, job email and landing page', async () => {
    const user = await make.user({ email: 'verify.me@example.com', emailVerified: false });
    const job = await api(t.app, {
      method: 'POST',
      url: '/api/v2/jobs/verification-email',
      token,
      body: { user_id: user.userId },
    });
    expect(job.statusCode, job.body).toBe(201);
    expect(job.json()).toEqual({
      status: 'completed',
      type: 'verification_email',
      created_at: new Date(t.clock.now()).toISOString(),
      id: expect.stringMatching(/^job_/),
    });
    const mail = await smtp.waitFor((m) => m.to === user.email);
    expect(mail.subject).toBe('Verify your email for Acme Corp');
    const link = new URL(
      /https:\/\/latchkey\.test\/u\/email-verification\?ticket=[\w%-]+/.exec(mail.text)?.[0] ?? '',
    );
    const landing = await t.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    expect(landing.statusCode).toBe(200);
    expect(landing.body).toContain('<h1 id="title">Email verified</h1>');
    expect(landing.body).toContain(
      '<p role="status">Your email address has been verified. You can close this page.</p>',
    );
    const after = await api(t.app, {
      method: 'GET',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      token,
    });
    expect(after.json()).toMatchObject({ email_verified: true });
    const again = await t.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    expect(again.statusCode).toBe(400);

    const other = await make.user({ email: 'verify.redirect@example.com', emailVerified: false });
    const ticket = await api(t.app, {
      method: 'POST',
      url: '/api/v2/tickets/email-verification',
      token,
      body: { user_id: other.userId, result_url: 'https://app.example.com/verified' },
    });
    expect(ticket.statusCode, ticket.body).toBe(201);
    const url = new URL(ticket.json<{ ticket: string }>().ticket);
    const redirect = await t.app.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toMatch(/^https:\/\/app\.example\.com\/verified\?success=true/);
    expect(new URL(redirect.headers.location ?? '').searchParams.get('message')).toBe(
      'Your email was verified. You can continue using the application.',
    );
  });
});

describe('without SMTP', () => {
  it('writes the message with its link to the log, never the password', async () => {
    const lines: { message: string; detail: Record<string, unknown> }[] = [];
    const t = await buildTestApp(
      undefined,
      {},
      { info: (message, detail) => lines.push({ message, detail }) },
    );
    try {
      const make = createFactories(t.deps);
      const client = await make.client();
      await make.enableConnection(client.clientId);
      const user = await make.user({ email: 'logged@example.com', password: OLD });
      const res = await t.app.inject({
        method: 'POST',
        url: '/dbconnections/change_password',
        payload: { client_id: client.clientId, connection: CONNECTION, email: user.email },
      });
      expect(res.statusCode).toBe(200);
      await expect.poll(() => lines.length).toBe(1);
      expect(lines[0]).toMatchObject({
        detail: { to: 'logged@example.com', subject: 'Reset your Latchkey password' },
      });
      expect(String(lines[0]?.detail['text'])).toMatch(
        /https:\/\/latchkey\.test\/u\/reset-password\?ticket=/,
      );
      expect(JSON.stringify(lines)).not.toContain(OLD);
    } finally {
      await t.close();
    }
  });
});
