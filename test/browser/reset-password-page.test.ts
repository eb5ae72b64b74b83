import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildListeningTestApp, type TestApp } from '../helpers/build-test-app.js';
import { checkPage, hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('the reset-password page in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let link: string;
  beforeAll(async () => {
    t = await buildListeningTestApp();
    browser = await launchBrowser();
    const user = await createFactories(t.deps).user({ email: 'browser.reset@example.com' });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v2/tickets/password-change',
      headers: { authorization: `Bearer ${await t.managementToken()}` },
      payload: { user_id: user.userId },
    });
    link = res.json<{ ticket: string }>().ticket;
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  it('has no serious accessibility violation, breaks no CSP rule, and changes the password', async () => {
    const report = await checkPage(browser, link, 'reset-password');
    expect(report.errors).toEqual([]);
    expect(report.violations).toEqual([]);
    expect(report.screenshots).toEqual([
      'test-artifacts/reset-password-desktop.png',
      'test-artifacts/reset-password-phone.png',
      'test-artifacts/reset-password-desktop-dark.png',
    ]);
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    try {
      await page.goto(link);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Reset your password');
      expect(await page.locator(':focus').getAttribute('id')).toBe('password');
      await page.getByLabel('New password', { exact: true }).fill('mismatch-one-1234');
      await page.getByLabel('Confirm new password').fill('mismatch-two-1234');
      await page.getByRole('button', { name: 'Reset password' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('The passwords do not match.');
      // The page's one task: the field to type again has the focus, and names the error it failed with.
      const focused = page.locator(':focus');
      expect(await focused.getAttribute('id')).toBe('password');
      expect(await focused.getAttribute('aria-describedby')).toBe('reset-password-error');
      await page.screenshot({ path: 'test-artifacts/reset-password-error.png', fullPage: true });
      await page.getByLabel('New password', { exact: true }).fill('browser-new-password-42');
      await page.getByLabel('Confirm new password').fill('browser-new-password-42');
      await page.getByRole('button', { name: 'Reset password' }).click();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Password changed');
      // The mismatch answer is a 400 on purpose (Chromium reports it); nothing else may fail, CSP included.
      expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
