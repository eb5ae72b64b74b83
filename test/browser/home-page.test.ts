import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildListeningTestApp, type TestApp } from '../helpers/build-test-app.js';
import { checkPage, hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('the root page in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    t = await buildListeningTestApp();
    base = t.issuer;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  it('has no serious accessibility violation, breaks no CSP rule, and links to documents that load', async () => {
    const report = await checkPage(browser, base, 'home');
    expect(report.errors).toEqual([]);
    expect(report.violations).toEqual([]);
    expect(report.screenshots).toEqual([
      'test-artifacts/home-desktop.png',
      'test-artifacts/home-phone.png',
      'test-artifacts/home-desktop-dark.png',
    ]);
    const page = await browser.context.newPage();
    try {
      await page.goto(base);
      const heading = await page.getByRole('heading', { level: 1 }).textContent();
      expect(heading).toBe('Identity server');
      const links = await Promise.all(
        (await page.locator('a.card').all()).map(async (a) => (await a.getAttribute('href')) ?? ''),
      );
      expect(links).toEqual([
        `${base}.well-known/openid-configuration`,
        `${base}.well-known/jwks.json`,
        `${base}openapi.json`,
      ]);
      for (const link of links) expect((await page.request.get(link)).status(), link).toBe(200);
    } finally {
      await page.close();
    }
  });
});
