import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildListeningTestApp, type TestApp } from '../helpers/build-test-app.js';
import { checkPage, hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';

const CALLBACK = 'https://partner.example.com/callback';
const ORDERS = 'https://orders.example.com/';

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('the consent page in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let clientId: string;
  beforeAll(async () => {
    t = await buildListeningTestApp();
    base = t.issuer;
    browser = await launchBrowser();
    const make = createFactories(t.deps);
    await make.api({
      identifier: ORDERS,
      name: 'Orders API',
      scopes: [
        { value: 'read:orders', description: 'Read your orders' },
        { value: 'write:orders', description: 'Create and change your orders' },
      ],
    });
    const client = await make.client({
      name: 'Partner App',
      appType: 'regular_web',
      isFirstParty: false,
      settings: { callbacks: [CALLBACK] },
      grantTypes: ['authorization_code'],
    });
    clientId = client.clientId;
    await make.enableConnection(client.clientId);
    await make.grant({
      clientId: client.clientId,
      audience: ORDERS,
      subjectType: 'user',
      scope: ['read:orders', 'write:orders'],
    });
    await make.user({ email: 'browser.consent@example.com' });
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  const authorizeUrl = (state: string) =>
    `${base}authorize?${new URLSearchParams({
      client_id: clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      audience: ORDERS,
      scope: 'openid profile email read:orders write:orders',
      state,
    }).toString()}`;

  /** A page whose requests to the (absent) application are answered here, so the redirect can be read. */
  const newPage = async (): Promise<Page> => {
    const page = await browser.context.newPage();
    await page.route(`${CALLBACK}**`, (route) => route.fulfill({ status: 200, body: 'back at the app' }));
    return page;
  };

  const callback = async (page: Page): Promise<URLSearchParams> => {
    await page.waitForURL(`${CALLBACK}**`, { timeout: 5000 });
    return new URL(page.url()).searchParams;
  };

  it('has no serious accessibility violation, breaks no CSP rule, and Decline then Accept reach the callback', async () => {
    const signIn = await browser.context.newPage();
    let consentUrl: string;
    try {
      await signIn.goto(authorizeUrl('first'));
      await signIn.getByLabel('Email address or username').fill('browser.consent@example.com');
      await signIn.getByLabel('Password').fill('Pass-word-123');
      await signIn.getByRole('button', { name: 'Continue' }).click();
      await signIn.waitForURL(`${base}u/consent?state=*`);
      consentUrl = signIn.url();
    } finally {
      await signIn.close();
    }

    // The same transaction, opened three more times in this browser (its cookie binds it here).
    const report = await checkPage(browser, consentUrl, 'consent');
    expect(report.errors).toEqual([]);
    expect(report.violations).toEqual([]);
    expect(report.screenshots).toEqual([
      'test-artifacts/consent-desktop.png',
      'test-artifacts/consent-phone.png',
      'test-artifacts/consent-desktop-dark.png',
    ]);

    const page = await newPage();
    try {
      await page.goto(consentUrl);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Authorize Partner App');
      expect(await page.getByRole('listitem').allTextContents()).toEqual([
        'See your profile: name, nickname and pictureprofile',
        'See your email addressemail',
        'Read your ordersread:orders',
        'Create and change your orderswrite:orders',
      ]);
      // Decline: the application hears access_denied (the form's 302 is allowed by the page's form-action).
      await page.getByRole('button', { name: 'Decline' }).click();
      const declined = await callback(page);
      expect(Object.fromEntries(declined)).toEqual({
        error: 'access_denied',
        error_description: 'User did not authorize the request',
        state: 'first',
      });

      // The SSO session skips the login page; consent is asked again, and Accept gives a code.
      await page.goto(authorizeUrl('second'));
      await page.waitForURL(`${base}u/consent?state=*`);
      await page.getByRole('button', { name: 'Accept' }).click();
      const accepted = await callback(page);
      expect(accepted.get('state')).toBe('second');
      expect(accepted.get('code')).toMatch(/^[\w-]{20,}$/);

      // Consented: the next sign-in goes straight back to the application (asked through the context's request
      // API, which shares the browser's cookies and stops at the 302).
      const again = await page.request.get(authorizeUrl('third'), { maxRedirects: 0 });
      expect(again.status()).toBe(302);
      const location = new URL(again.headers()['location'] ?? '');
      expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
      expect(location.searchParams.get('state')).toBe('third');
      expect(location.searchParams.get('code')).toMatch(/^[\w-]{20,}$/);
    } finally {
      await page.close();
    }
  });
});
