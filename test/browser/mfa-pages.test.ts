import type { Server } from 'node:http';
import express from 'express';
import { auth } from 'express-openid-connect';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/domain/user.js';
import { randomAlphanumeric } from '../../src/lib/ids.js';
import { newTotpSecret } from '../../src/mfa/totp.js';
import { buildListeningTestApp, type TestApp } from '../helpers/build-test-app.js';
import { checkPage, hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories, type Factories } from '../helpers/factories.js';
import { api } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';

const PASSWORD = 'Pass-word-123';

/** A web application as its developers write it with express-openid-connect, on its own origin. */
async function startWebApp(issuer: string, clientId: string, secret: string, port: number): Promise<Server> {
  const app = express();
  app.use(
    auth({
      issuerBaseURL: issuer,
      baseURL: `http://localhost:${String(port)}`,
      clientID: clientId,
      clientSecret: secret,
      secret: 'a-long-enough-secret-for-the-session-cookie',
      authRequired: false,
      enableTelemetry: false,
      authorizationParams: { response_type: 'code', scope: 'openid profile email' },
    }),
  );
  app.get('/', (req, res) => {
    res.json({ signedIn: req.oidc.isAuthenticated(), claims: req.oidc.idTokenClaims ?? null });
  });
  return new Promise((resolve) => {
    const server = app.listen(port, '127.0.0.1', () => {
      resolve(server);
    });
  });
}

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('the second-factor pages in Chromium through express-openid-connect', () => {
  let t: TestApp;
  let make: Factories;
  let browser: Browser;
  let webApp: Server;
  let appOrigin: string;

  const codeAtNow = (secret: string) => generate({ secret, epoch: Math.floor(t.clock.now() / 1000) });

  beforeAll(async () => {
    t = await buildListeningTestApp();
    make = createFactories(t.deps);
    const token = await t.managementToken();
    for (const factor of ['otp', 'recovery-code']) {
      await api(t.app, {
        method: 'PUT',
        url: `/api/v2/guardian/factors/${factor}`,
        token,
        body: { enabled: true },
      });
    }
    await api(t.app, { method: 'PUT', url: '/api/v2/guardian/policies', token, body: ['all-applications'] });
    const appPort = await freePort();
    appOrigin = `http://localhost:${String(appPort)}`;
    const client = await make.client({
      name: 'Orders Web',
      appType: 'regular_web',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [`${appOrigin}/callback`] },
    });
    await make.enableConnection(client.clientId);
    webApp = await startWebApp(t.issuer, client.clientId, client.clientSecret, appPort);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    webApp.close();
    await t.close();
  });

  const newUser = (): Promise<User> =>
    make.user({ email: `mfa.${randomAlphanumeric(6).toLowerCase()}@example.com`, password: PASSWORD });

  it('signs in with a password and an authenticator code; the challenge page passes axe', async () => {
    const user = await newUser();
    const secret = newTotpSecret();
    const at = new Date(t.clock.now()).toISOString();
    await t.deps.store.mfaEnrolments.insert({
      id: `totp|dev_${randomAlphanumeric(20)}`,
      userId: user.userId,
      type: 'totp',
      secret,
      codeHash: undefined,
      confirmed: true,
      name: undefined,
      createdAt: at,
      enrolledAt: at,
      lastAuthAt: undefined,
    });
    const page = await browser.context.newPage();
    try {
      await page.goto(`${appOrigin}/login`);
      await page.waitForURL(/\/u\/login\?/);
      await page.getByLabel('Email address or username').fill(user.email ?? '');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(/\/u\/mfa\?/);
      const report = await checkPage(browser, page.url(), 'mfa-challenge');
      expect(report.errors).toEqual([]);

      await page.getByLabel('Code from your authenticator app').fill('000000');
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('That code is not right');
      await page.getByLabel('Code from your authenticator app').fill(await codeAtNow(secret));
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${appOrigin}/`);
      const home = JSON.parse((await page.textContent('body')) ?? '{}') as {
        signedIn: boolean;
        claims: Record<string, unknown>;
      };
      expect(home.signedIn).toBe(true);
      expect(home.claims).toMatchObject({ sub: user.userId, amr: ['pwd', 'otp', 'mfa'] });
    } finally {
      await page.close();
    }
  });

  it('enrols an authenticator app for a user without one; the enrolment page passes axe', async () => {
    const user = await newUser();
    const fresh = await launchBrowser();
    try {
      const page = await fresh.context.newPage();
      await page.goto(`${appOrigin}/login`);
      await page.waitForURL(/\/u\/login\?/);
      await page.getByLabel('Email address or username').fill(user.email ?? '');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(/\/u\/mfa-enrol\?/);
      const report = await checkPage(fresh, page.url(), 'mfa-enrol');
      expect(report.errors).toEqual([]);
      await expect.poll(() => page.getByRole('img', { name: /QR code/ }).count()).toBe(1);

      const uri = (await page.locator('.qr').getAttribute('data-uri')) ?? '';
      const secret = new URL(uri).searchParams.get('secret') ?? '';
      await page.getByLabel('Code from your authenticator app').fill(await codeAtNow(secret));
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent())
        .toBe('Save your new recovery code');
      expect(await page.locator('#recovery-code').textContent()).toMatch(/^[A-Z0-9]{24}$/);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${appOrigin}/`);
      const home = JSON.parse((await page.textContent('body')) ?? '{}') as {
        claims: Record<string, unknown>;
      };
      expect(home.claims).toMatchObject({ sub: user.userId, amr: ['pwd', 'otp', 'mfa'] });
    } finally {
      await fresh.close();
    }
  });
});
