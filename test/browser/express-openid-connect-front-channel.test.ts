import type { Server } from 'node:http';
import express from 'express';
import { auth } from 'express-openid-connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/domain/client.js';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';
import { freePort } from '../helpers/ports.js';

/**
 * express-openid-connect's defaults are the front-channel flows: `response_type=id_token` (or the hybrid
 * `code id_token`) answered by `form_post` to `{baseURL}/callback`, the ID token checked against the
 * discovery document and the JWKS (nonce, and c_hash for the hybrid).
 */
describe.skipIf(!hasChromium)(
  'express-openid-connect front-channel defaults against Latchkey in Chromium',
  () => {
    let t: TestApp;
    let browser: Browser;
    let issuer: string;
    let client: Client;
    const servers: Server[] = [];
    let appPorts: number[];
    beforeAll(async () => {
      const port = await freePort();
      appPorts = [await freePort(), await freePort()];
      issuer = `http://127.0.0.1:${port}/`;
      t = await buildTestApp(undefined, { issuer });
      await t.app.listen({ port, host: '127.0.0.1' });
      const make = createFactories(t.deps);
      client = await make.client({
        name: 'Express Web',
        appType: 'regular_web',
        // express-openid-connect authenticates with HTTP Basic by default, as Auth0's regular web apps do.
        tokenEndpointAuthMethod: 'client_secret_basic',
        grantTypes: ['implicit', 'authorization_code'],
        settings: {
          callbacks: appPorts.map((p) => `http://127.0.0.1:${String(p)}/callback`),
        },
      });
      await make.enableConnection(client.clientId);
      await make.user({ email: 'express@example.com', name: 'Express User' });
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser.close();
      for (const server of servers) await new Promise((resolve) => server.close(resolve));
      await t.close();
    });

    /** An Express app protected by express-openid-connect, answering `/` with the signed-in user's claims. */
    async function expressApp(port: number, responseType: 'id_token' | 'code id_token'): Promise<string> {
      const baseURL = `http://127.0.0.1:${port}`;
      const app = express();
      app.use(
        auth({
          issuerBaseURL: issuer,
          baseURL,
          clientID: client.clientId,
          ...(responseType === 'code id_token' ? { clientSecret: client.clientSecret } : {}),
          secret: 'a-long-cookie-secret-for-the-test-app-0123456789',
          authRequired: true,
          idpLogout: false,
          authorizationParams: { response_type: responseType, scope: 'openid profile email' },
        }),
      );
      app.get('/', (req, res) => {
        res.json({ user: req.oidc.user ?? null, hasAccessToken: req.oidc.accessToken !== undefined });
      });
      // An error (a refused callback) is shown as JSON, so the test can say what went wrong.
      app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(400).json({ error: error.message });
      });
      const server = app.listen(port, '127.0.0.1');
      servers.push(server);
      await new Promise((resolve) => server.once('listening', resolve));
      return baseURL;
    }

    it.each([
      ['id_token', 0],
      ['code id_token', 1],
    ] as const)('signs in with response_type=%s and form_post', async (responseType, offset) => {
      const baseURL = await expressApp(appPorts[offset] ?? 0, responseType);
      await browser.context.clearCookies();
      const page = await browser.context.newPage();
      try {
        await page.goto(`${baseURL}/`);
        await page.waitForURL(`${issuer}u/login?**`, { timeout: 5000 });
        await page.getByLabel('Email address or username').fill('express@example.com');
        await page.getByLabel('Password').fill('Pass-word-123');
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.waitForURL(`${baseURL}/**`, { timeout: 10_000 });
        const body = JSON.parse((await page.textContent('body')) ?? '') as {
          user: Record<string, unknown> | null;
          hasAccessToken: boolean;
        };
        expect(body.user).toMatchObject({ email: 'express@example.com', name: 'Express User' });
        // The hybrid flow's code is exchanged by the app at /oauth/token: it then holds an access token.
        expect(body.hasAccessToken).toBe(responseType === 'code id_token');
      } finally {
        await page.close();
      }
    });
  },
);
