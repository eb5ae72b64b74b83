import type { Server } from 'node:http';
import express from 'express';
import { auth, requiresAuth, type ConfigParams } from 'express-openid-connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildListeningTestApp, type TestApp } from '../helpers/build-test-app.js';
import { hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';
import { jwtPayload } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';

const PASSWORD = 'Pass-word-123';

/** A web application as its developers write it with express-openid-connect, on its own origin. */
async function startWebApp(config: ConfigParams, port: number): Promise<Server> {
  const app = express();
  app.use(auth(config));
  app.get('/', (req, res) => {
    res.json({ signedIn: req.oidc.isAuthenticated(), user: req.oidc.user ?? null });
  });
  app.get('/orders', requiresAuth(), (req, res) => {
    res.json({ accessToken: req.oidc.accessToken?.access_token ?? null });
  });
  return new Promise((resolve) => {
    const server = app.listen(port, '127.0.0.1', () => {
      resolve(server);
    });
  });
}

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('express-openid-connect against Latchkey in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let webApp: Server;
  let appOrigin: string;
  let issuer: string;
  let userId: string;
  let clientId: string;

  beforeAll(async () => {
    t = await buildListeningTestApp();
    issuer = t.issuer;
    const make = createFactories(t.deps);
    const api = await make.api({
      identifier: 'https://orders.example.com/',
      scopes: [{ value: 'read:orders' }],
    });
    // The application runs on `localhost`, the server on 127.0.0.1: two origins, as in production.
    const appPort = await freePort();
    appOrigin = `http://localhost:${String(appPort)}`;
    const client = await make.client({
      name: 'Orders Web',
      appType: 'regular_web',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [`${appOrigin}/callback`] },
    });
    clientId = client.clientId;
    await make.enableConnection(client.clientId);
    userId = (await make.user({ email: 'web.user@example.com', name: 'Web User', password: PASSWORD }))
      .userId;
    webApp = await startWebApp(
      {
        issuerBaseURL: issuer,
        baseURL: appOrigin,
        clientID: client.clientId,
        clientSecret: client.clientSecret,
        secret: 'a-long-enough-secret-for-the-session-cookie',
        authRequired: false,
        enableTelemetry: false,
        authorizationParams: {
          response_type: 'code',
          scope: 'openid profile email read:orders',
          audience: api.identifier,
        },
      },
      appPort,
    );
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    webApp.close();
    await t.close();
  });

  it('signs in with the code flow and reads the user and the access token from the session', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${appOrigin}/login`);
      await page.waitForURL(/\/u\/login\?/);
      expect(new URL(page.url()).origin).toBe(new URL(issuer).origin);
      await page.getByLabel('Email address or username').fill('web.user@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Continue' }).click();
      // The library exchanges the code at /oauth/token, checks the ID token and returns to baseURL.
      await page.waitForURL(`${appOrigin}/`);
      const home = JSON.parse((await page.textContent('body')) ?? '{}') as Record<string, unknown>;
      expect(home).toMatchObject({
        signedIn: true,
        user: { sub: userId, email: 'web.user@example.com', name: 'Web User' },
      });

      await page.goto(`${appOrigin}/orders`);
      const orders = JSON.parse((await page.textContent('body')) ?? '{}') as { accessToken: string };
      expect(jwtPayload(orders.accessToken)).toMatchObject({
        iss: issuer,
        sub: userId,
        azp: clientId,
        aud: ['https://orders.example.com/', `${issuer}userinfo`],
      });
    } finally {
      await page.close();
    }
  });

  it('sends a visitor of a protected page to the login page first', async () => {
    const fresh = await launchBrowser();
    try {
      const page = await fresh.context.newPage();
      await page.goto(`${appOrigin}/orders`);
      await page.waitForURL(/\/u\/login\?/);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Welcome');
    } finally {
      await fresh.close();
    }
  });
});
