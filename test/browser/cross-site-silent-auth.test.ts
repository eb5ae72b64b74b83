import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';
import { jwtPayload } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startTlsProxy, type TlsProxy } from '../helpers/tls-proxy.js';
import { startSpaHost } from '../helpers/spa-host.js';

const PASSWORD = 'Pass-word-123';

/**
 * Silent authentication across sites, as in production: the issuer on https (through a TLS proxy) at 127.0.0.1,
 * the application at localhost. The hidden iframe of auth0-spa-js's getTokenSilently is a third-party context,
 * so the session must travel in a `SameSite=None; Secure` cookie.
 */
describe.skipIf(!hasChromium)('silent authentication from another site over https in Chromium', () => {
  let t: TestApp;
  let proxy: TlsProxy;
  let browser: Browser;
  let host: { server: Server; origin: string };
  let domain: string;
  let clientId: string;
  let userId: string;

  beforeAll(async () => {
    proxy = await startTlsProxy();
    domain = `https://${proxy.domain}`;
    t = await buildTestApp(undefined, { issuer: `${domain}/` });
    const port = await freePort();
    await t.app.listen({ port, host: '127.0.0.1' });
    proxy.forwardTo(port);
    host = await startSpaHost('Orders SPA');
    const make = createFactories(t.deps);
    const client = await make.client({
      name: 'Orders SPA',
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [`${host.origin}/callback`], web_origins: [host.origin] },
    });
    clientId = client.clientId;
    await make.enableConnection(clientId);
    userId = (await make.user({ email: 'cross.site@example.com', password: PASSWORD })).userId;
    browser = await launchBrowser({ ignoreHTTPSErrors: true, thirdPartyCookies: true });
  });
  afterAll(async () => {
    await browser.close();
    host.server.close();
    await t.close();
    await proxy.close();
  });

  const createClient = () => `(async () => {
    window.app = await auth0.createAuth0Client({
      domain: ${JSON.stringify(domain)},
      clientId: ${JSON.stringify(clientId)},
      authorizationParams: { redirect_uri: ${JSON.stringify(`${host.origin}/callback`)} },
    });
  })()`;

  it('signs in, then a fresh page gets a token through the hidden iframe with the SameSite=None cookie', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${host.origin}/`);
      await page.evaluate(createClient());
      void page.evaluate('window.app.loginWithRedirect()');
      await page.waitForURL(/\/u\/login\?/);
      await page.getByLabel('Email address or username').fill('cross.site@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${host.origin}/callback?**`);
      await page.evaluate(createClient());
      await page.evaluate('window.app.handleRedirectCallback()');
    } finally {
      await page.close();
    }
    const cookies = await browser.context.cookies(domain);
    expect(cookies.find((c) => c.name === 'auth0')).toMatchObject({
      sameSite: 'None',
      secure: true,
      httpOnly: true,
    });

    // A new page keeps nothing (in-memory cache, no refresh token): only the session at the issuer can answer.
    const fresh = await browser.context.newPage();
    try {
      await fresh.goto(`${host.origin}/`);
      await fresh.evaluate(createClient());
      const token = await fresh.evaluate<string>('window.app.getTokenSilently()');
      expect(jwtPayload(token)).toMatchObject({ iss: `${domain}/`, sub: userId, azp: clientId });
    } finally {
      await fresh.close();
    }
  });

  it('answers login_required to a browser that blocks third-party cookies, whose iframe carries no session', async () => {
    const strict = await launchBrowser({ ignoreHTTPSErrors: true });
    try {
      const page = await strict.context.newPage();
      await page.goto(`${host.origin}/`);
      await page.evaluate(createClient());
      void page.evaluate('window.app.loginWithRedirect()');
      await page.waitForURL(/\/u\/login\?/);
      await page.getByLabel('Email address or username').fill('cross.site@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${host.origin}/callback?**`);
      const fresh = await strict.context.newPage();
      await fresh.goto(`${host.origin}/`);
      await fresh.evaluate(createClient());
      // Auth0's advice for such browsers: refresh tokens (auth0-spa-js.test.ts) or a custom domain on the app's site.
      const outcome = await fresh.evaluate<string>(
        'window.app.getTokenSilently().then(() => "token", (e) => e.error)',
      );
      expect(outcome).toBe('login_required');
    } finally {
      await strict.close();
    }
  });
});
