import type { Server } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';
import { jwtPayload } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startSpaHost } from '../helpers/spa-host.js';

const PASSWORD = 'Pass-word-123';

interface SpaOptions {
  readonly domain: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly audience: string;
}

/**
 * Page-side: `createAuth0Client` as an application configures it, kept on `window.app`. A string, because this
 * project compiles without the DOM types; the options go in as JSON.
 */
function clientScript(options: SpaOptions): string {
  return `(async () => {
    const o = ${JSON.stringify(options)};
    window.app = await auth0.createAuth0Client({
      domain: o.domain,
      clientId: o.clientId,
      useRefreshTokens: true,
      cacheLocation: 'localstorage',
      authorizationParams: { redirect_uri: o.redirectUri, audience: o.audience, scope: 'openid profile email read:orders' },
    });
  })()`;
}

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('@auth0/auth0-spa-js against Latchkey in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let host: { server: Server; origin: string };
  let options: SpaOptions;
  let userId: string;

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${String(port)}`;
    t = await buildTestApp(undefined, { issuer: `${base}/` });
    await t.app.listen({ port, host: '127.0.0.1' });
    host = await startSpaHost('Orders SPA');
    const make = createFactories(t.deps);
    const api = await make.api({
      identifier: 'https://orders.example.com/',
      scopes: [{ value: 'read:orders' }],
      allowOfflineAccess: true,
    });
    const client = await make.client({
      name: 'Orders SPA',
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      settings: { callbacks: [`${host.origin}/callback`], web_origins: [host.origin] },
    });
    await make.enableConnection(client.clientId);
    userId = (await make.user({ email: 'spa.user@example.com', password: PASSWORD })).userId;
    options = {
      domain: base,
      clientId: client.clientId,
      redirectUri: `${host.origin}/callback`,
      audience: api.identifier,
    };
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    host.server.close();
    await t.close();
  });

  async function openApp(page: Page, path: string): Promise<void> {
    await page.goto(`${host.origin}${path}`);
    await page.evaluate(clientScript(options));
  }

  it('signs in with loginWithRedirect, completes handleRedirectCallback and refreshes tokens from the browser', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await openApp(page, '/');
      // loginWithRedirect navigates away: do not wait for its promise in the page that is being left.
      void page.evaluate('window.app.loginWithRedirect({ appState: { returnTo: "/orders" } })');
      await page.waitForURL(/\/u\/login\?/);
      await page.getByLabel('Email address or username').fill('spa.user@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${host.origin}/callback?**`);

      await page.evaluate(clientScript(options));
      const callback = await page.evaluate<{ appState: unknown }>('window.app.handleRedirectCallback()');
      expect(callback.appState).toEqual({ returnTo: '/orders' });
      const user = await page.evaluate<Record<string, unknown>>('window.app.getUser()');
      expect(user).toMatchObject({ sub: userId, email: 'spa.user@example.com' });

      const first = await page.evaluate<string>('window.app.getTokenSilently()');
      const claims = jwtPayload(first);
      expect(claims).toMatchObject({
        sub: userId,
        aud: [options.audience, `${options.domain}/userinfo`],
        azp: options.clientId,
      });
      expect(String(claims['scope']).split(' ').sort()).toEqual(
        ['email', 'offline_access', 'openid', 'profile', 'read:orders'].sort(),
      );

      // cacheMode 'off' skips the cache: the refresh token goes to /oauth/token from the page's origin (CORS).
      const refreshed = await page.evaluate<string>("window.app.getTokenSilently({ cacheMode: 'off' })");
      expect(refreshed).not.toBe(first);
      expect(jwtPayload(refreshed)).toMatchObject({ sub: userId, aud: claims['aud'] });
      expect(await page.evaluate<boolean>('window.app.isAuthenticated()')).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('keeps the user signed in across a reload, from the refresh token in local storage', async () => {
    const page = await browser.context.newPage();
    try {
      await openApp(page, '/');
      expect(await page.evaluate<boolean>('window.app.isAuthenticated()')).toBe(true);
      const token = await page.evaluate<string>("window.app.getTokenSilently({ cacheMode: 'off' })");
      expect(jwtPayload(token)['sub']).toBe(userId);
    } finally {
      await page.close();
    }
  });
});
