import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { checkPage, hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';
import { api } from '../helpers/http.js';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { freePort } from '../helpers/ports.js';

const CALLBACK = 'https://app.example.com/callback';
const LOGO = 'https://cdn.example.com/brand/logo.svg';
const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="132" height="32" viewBox="0 0 132 32"><rect width="32" height="32" rx="8" fill="#0f766e"/><path d="M9 22 16 9l7 13z" fill="#fff"/><text x="40" y="22" font-family="Arial" font-size="17" font-weight="700" fill="#0f766e">Acme</text></svg>';

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('the sign-up, reset-request and branded login pages in Chromium', () => {
  let t: TestApp;
  let smtp: TestSmtpServer;
  let browser: Browser;
  let base: string;
  let authorizeUrl: (extra?: Record<string, string>) => string;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}/`;
    smtp = await startTestSmtpServer();
    t = await buildTestApp(undefined, {
      issuer: base,
      mail: { smtpUrl: smtp.url, from: 'Acme <no-reply@latchkey.test>' },
    });
    await t.app.listen({ port, host: '127.0.0.1' });
    browser = await launchBrowser();
    // The logo's host is not running: the browser gets the image from here.
    await browser.context.route(LOGO, (route) =>
      route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO_SVG }),
    );
    const make = createFactories(t.deps);
    const client = await make.client({
      name: 'Orders Web',
      appType: 'regular_web',
      settings: { callbacks: [CALLBACK] },
      grantTypes: ['authorization_code'],
    });
    await make.enableConnection(client.clientId);
    await make.user({ email: 'browser.reset@example.com' });
    authorizeUrl = (extra = {}) =>
      `${base}authorize?${new URLSearchParams({
        client_id: client.clientId,
        redirect_uri: CALLBACK,
        response_type: 'code',
        scope: 'openid profile',
        state: 'state-from-the-app',
        ...extra,
      }).toString()}`;
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
    await smtp.close();
  });

  it('the sign-up page: accessible, rules listed, a weak password refused in place, then signed up and back at the app', async () => {
    const report = await checkPage(browser, authorizeUrl({ screen_hint: 'signup' }), 'signup');
    expect(report.errors).toEqual([]);
    expect(report.violations).toEqual([]);
    const page = await browser.context.newPage();
    await page.route(`${CALLBACK}**`, (route) => route.fulfill({ status: 200, body: 'signed in' }));
    try {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(authorizeUrl());
      await page.getByRole('link', { name: 'Sign up' }).click();
      await page.waitForURL(/\/u\/signup\?state=/);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Create your account');
      await page.getByLabel('Email address').fill('new.browser@example.com');
      await page.getByLabel('Password', { exact: true }).fill('weak');
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Choose a stronger password.');
      expect(await page.getByLabel('Email address').inputValue()).toBe('new.browser@example.com');
      await page.screenshot({ path: 'test-artifacts/signup-error-phone.png', fullPage: true });
      await page.getByLabel('Password', { exact: true }).fill('Correct-Horse-Battery-42');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${CALLBACK}**`, { timeout: 5000 });
      expect(new URL(page.url()).searchParams.get('code')).toMatch(/^[\w-]{20,}$/);
    } finally {
      await page.close();
      // Signed up means signed in: the next tests start without the SSO session.
      // The context now holds a session; the next test needs the login page again.
      await browser.context.clearCookies();
    }
  });

  it('the reset-request page: accessible, sends the email and says so; its link sets a new password that then signs in', async () => {
    const start = await fetch(authorizeUrl(), { redirect: 'manual' });
    const location = new URL(String(start.headers.get('location')), base);
    const requestUrl = `${base}u/reset-password/request${location.search}`;
    const report = await checkPage(browser, requestUrl, 'reset-request');
    expect(report.errors).toEqual([]);
    expect(report.violations).toEqual([]);

    const page = await browser.context.newPage();
    try {
      await page.goto(authorizeUrl());
      await page.getByRole('link', { name: 'Forgot your password?' }).click();
      await page.waitForURL(/\/u\/reset-password\/request\?state=/);
      await page.getByLabel('Email address').fill('browser.reset@example.com');
      await page.getByRole('button', { name: 'Send reset link' }).click();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Check your email');
      const sent = await checkPageHere(page, 'reset-request-sent');
      expect(sent).toEqual([]);
      const mail = await smtp.waitFor((m) => m.to === 'browser.reset@example.com');
      await page.getByRole('link', { name: 'Back to sign in' }).click();
      await page.waitForURL(/\/u\/login\?state=/);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Welcome');
      const loginUrl = page.url();

      // The emailed link, followed in the browser: a new password, then a sign-in with it.
      const link = /https?:\/\/\S+\/u\/reset-password\?ticket=[\w-]+/.exec(mail.text)?.[0] ?? '';
      expect(link.startsWith(base)).toBe(true);
      const reset = await browser.context.newPage();
      try {
        await reset.goto(link);
        await reset.getByLabel('New password', { exact: true }).fill('A-brand-new-secret-42');
        await reset.getByLabel('Confirm new password').fill('A-brand-new-secret-42');
        await reset.getByRole('button', { name: 'Reset password' }).click();
        await expect
          .poll(() => reset.getByRole('heading', { level: 1 }).textContent())
          .toBe('Password changed');
      } finally {
        await reset.close();
      }
      await page.route(`${CALLBACK}**`, (route) => route.fulfill({ status: 200, body: 'signed in' }));
      await page.goto(loginUrl);
      await page.getByLabel('Email address or username').fill('browser.reset@example.com');
      await page.getByLabel('Password').fill('A-brand-new-secret-42');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${CALLBACK}**`);
      expect(new URL(page.url()).searchParams.get('code')).toMatch(/^[\w-]{20,}$/);
      // The context now holds a session; the next test needs the login page again.
      await browser.context.clearCookies();
    } finally {
      await page.close();
    }
  });

  it('a branded login page: the logo named after the tenant, the brand colour on the button, no CSP refusal', async () => {
    const token = await t.managementToken();
    await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token,
      body: { friendly_name: 'Acme' },
    });
    const branded = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/branding',
      token,
      body: { colors: { primary: '#0f766e', page_background: '#ecfdf5' }, logo_url: LOGO },
    });
    expect(branded.statusCode).toBe(200);
    try {
      const report = await checkPage(browser, authorizeUrl(), 'login-branded');
      expect(report.errors).toEqual([]);
      expect(report.violations).toEqual([]);
      const page = await browser.context.newPage();
      try {
        await page.goto(authorizeUrl());
        expect(await page.getByRole('img', { name: 'Acme' }).count()).toBe(1);
        // The logo loaded (img-src lets its origin in) and the button wears the brand colour.
        await expect
          .poll(() => page.evaluate<number>('document.querySelector(".brand img").naturalWidth'))
          .toBeGreaterThan(0);
        const button = await page.evaluate<string>(
          'getComputedStyle(document.querySelector(".card-form button")).backgroundColor',
        );
        expect(button).toBe('rgb(15, 118, 110)');
      } finally {
        await page.close();
      }
    } finally {
      await api(t.app, {
        method: 'PATCH',
        url: '/api/v2/branding',
        token,
        body: { colors: null, logo_url: null },
      });
    }
  });
});

/** axe on a page already open (a POST's answer cannot be reopened by URL), with a screenshot. */
async function checkPageHere(
  page: import('playwright-core').Page,
  name: string,
): Promise<{ id: string; impact: string | null }[]> {
  const axe = (await import('axe-core')).default;
  await page.evaluate(axe.source);
  await page.screenshot({ path: `test-artifacts/${name}.png`, fullPage: true });
  const violations = await page.evaluate<{ id: string; impact: string | null }[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then(({ violations }) =>
      violations.map((v) => ({ id: v.id, impact: v.impact ?? null })))
  `);
  return violations;
}
