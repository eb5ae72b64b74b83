import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildListeningTestApp, type TestApp } from '../helpers/build-test-app.js';
import { checkPage, hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';

const CALLBACK = 'https://app.example.com/callback';

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('the hosted login page in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let authorize: string;
  beforeAll(async () => {
    t = await buildListeningTestApp();
    const base = t.issuer;
    browser = await launchBrowser();
    const make = createFactories(t.deps);
    const client = await make.client({
      name: 'Orders Web',
      appType: 'regular_web',
      settings: { callbacks: [CALLBACK] },
      grantTypes: ['authorization_code'],
    });
    await make.enableConnection(client.clientId);
    await make.user({ email: 'browser.login@example.com' });
    const query = new URLSearchParams({
      client_id: client.clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'openid profile',
      state: 'state-from-the-app',
    });
    authorize = `${base}authorize?${query.toString()}`;
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  it('has no serious accessibility violation, breaks no CSP rule, shows errors in place and signs in', async () => {
    const report = await checkPage(browser, authorize, 'login');
    expect(report.errors).toEqual([]);
    expect(report.violations).toEqual([]);
    expect(report.screenshots).toEqual([
      'test-artifacts/login-desktop.png',
      'test-artifacts/login-phone.png',
      'test-artifacts/login-desktop-dark.png',
    ]);
    const page = await browser.context.newPage();
    // The application is not running: answer its callback here, so the redirect can be read.
    await page.route(`${CALLBACK}**`, (route) => route.fulfill({ status: 200, body: 'signed in' }));
    try {
      await page.goto(authorize);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Welcome');
      await page.getByLabel('Email address or username').fill('browser.login@example.com');
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong email or password.');
      // The form stays on screen, the login name kept.
      expect(await page.getByLabel('Email address or username').inputValue()).toBe(
        'browser.login@example.com',
      );
      await page.screenshot({ path: 'test-artifacts/login-error.png', fullPage: true });
      await page.getByLabel('Password').fill('Pass-word-123');
      // The answer is a 302 to the application: the page's CSP form-action must allow its origin.
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${CALLBACK}**`, { timeout: 5000 });
      const back = new URL(page.url());
      expect(back.searchParams.get('state')).toBe('state-from-the-app');
      expect(back.searchParams.get('code')).toMatch(/^[\w-]{20,}$/);
    } finally {
      await page.close();
    }
  });
});
