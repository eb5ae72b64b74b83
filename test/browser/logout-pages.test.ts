import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildListeningTestApp, type TestApp } from '../helpers/build-test-app.js';
import { checkPage, hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';

const CALLBACK = 'https://app.example.com/callback';
const LOGOUT_URL = 'https://app.example.com/signed-out';

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('the logout pages in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let clientId: string;
  let authorize: string;
  beforeAll(async () => {
    // 5600-5649: this helper's range, apart from the other logout tests' ports.
    t = await buildListeningTestApp();
    base = t.issuer;
    browser = await launchBrowser();
    const make = createFactories(t.deps);
    const client = await make.client({
      name: 'Orders Web',
      appType: 'regular_web',
      settings: { callbacks: [CALLBACK], allowed_logout_urls: [LOGOUT_URL] },
      grantTypes: ['authorization_code'],
    });
    clientId = client.clientId;
    await make.enableConnection(client.clientId);
    await make.user({ email: 'browser.logout@example.com' });
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

  it('confirms a hintless /oidc/logout, signs out, then shows the signed-out and refusal pages', async () => {
    const page = await browser.context.newPage();
    // The application is not running: answer its URLs here, so the redirects can be read.
    await page.route('https://app.example.com/**', (route) => route.fulfill({ status: 200, body: 'app' }));
    try {
      await page.goto(authorize);
      await page.getByLabel('Email address or username').fill('browser.logout@example.com');
      await page.getByLabel('Password').fill('Pass-word-123');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${CALLBACK}**`, { timeout: 5000 });

      const logout = `${base}oidc/logout?${new URLSearchParams({
        client_id: clientId,
        post_logout_redirect_uri: LOGOUT_URL,
        state: 'after-logout',
      }).toString()}`;
      const confirm = await checkPage(browser, logout, 'logout-confirm');
      expect(confirm.errors).toEqual([]);
      expect(confirm.violations).toEqual([]);

      await page.goto(logout);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign out?');
      // The answer is a 302 to the application: the page's CSP form-action must allow its origin.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${LOGOUT_URL}**`, { timeout: 5000 });
      expect(new URL(page.url()).searchParams.get('state')).toBe('after-logout');
      const cookies = await browser.context.cookies(base);
      expect(cookies.map((c) => c.name)).not.toContain('auth0');

      // Signed out: /authorize shows the login page again.
      await page.goto(authorize);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Welcome');
    } finally {
      await page.close();
    }

    const signedOut = await checkPage(browser, `${base}v2/logout`, 'logout-signed-out');
    expect(signedOut.errors).toEqual([]);
    expect(signedOut.violations).toEqual([]);

    const refused = await checkPage(
      browser,
      `${base}v2/logout?client_id=${clientId}&returnTo=${encodeURIComponent('https://evil.example.com/')}`,
      'logout-refused',
      400,
    );
    // Chromium reports the 400 itself in the console; nothing else may be there (no CSP refusal).
    expect(refused.errors.filter((e) => !e.endsWith('status of 400 (Bad Request)'))).toEqual([]);
    expect(refused.violations).toEqual([]);
  });
});
