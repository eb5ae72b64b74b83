import type { Server } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MY_ACCOUNT_SCOPES } from '../../src/management/resource-servers/my-account.js';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';
import { api, jwtPayload } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startSpaHost } from '../helpers/spa-host.js';

const PASSWORD = 'Pass-word-123';
const EMAIL = 'dpop.user@example.com';

/** Page-side `createAuth0Client` with DPoP on, kept on `window.app` (a string: no DOM types here). */
function clientScript(options: { domain: string; clientId: string; redirectUri: string }): string {
  return `(async () => {
    const o = ${JSON.stringify(options)};
    window.app = await auth0.createAuth0Client({
      domain: o.domain,
      clientId: o.clientId,
      useDpop: true,
      cacheLocation: 'localstorage',
      authorizationParams: {
        redirect_uri: o.redirectUri,
        audience: o.domain + '/me/',
        scope: 'read:me:authentication_methods',
      },
    });
  })()`;
}

interface Exchange {
  readonly url: string;
  readonly method: string;
  readonly authorization: string | undefined;
  readonly dpop: string | undefined;
  status?: number;
  error?: string;
}

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('DPoP-bound My Account tokens through auth0-spa-js in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let host: { server: Server; origin: string };
  let domain: string;
  let clientId: string;
  let userId: string;

  beforeAll(async () => {
    host = await startSpaHost('Account settings');
    const port = await freePort();
    domain = `http://localhost:${String(port)}`;
    t = await buildTestApp(undefined, { issuer: `${domain}/` });
    await t.app.listen({ port, host: '127.0.0.1' });
    const make = createFactories(t.deps);
    const activated = await api(t.app, {
      method: 'POST',
      url: '/api/v2/resource-servers',
      token: await t.managementToken(),
      body: { name: 'Auth0 My Account API', identifier: `${domain}/me/` },
    });
    expect(activated.statusCode).toBe(201);
    const client = await make.client({
      name: 'Account settings',
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [`${host.origin}/callback`], web_origins: [host.origin] },
    });
    clientId = client.clientId;
    await make.grant({
      clientId,
      audience: `${domain}/me/`,
      subjectType: 'user',
      scope: [...MY_ACCOUNT_SCOPES],
    });
    t.deps.lookups.invalidate();
    await make.enableConnection(clientId);
    userId = (await make.user({ email: EMAIL, password: PASSWORD })).userId;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    host.server.close();
    await t.close();
  });

  const clientOptions = () => ({ domain, clientId, redirectUri: `${host.origin}/callback` });

  /** Every request the page makes to Latchkey, with its authentication headers and answer. */
  function record(page: Page): Exchange[] {
    const exchanges: Exchange[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(domain)) return;
      const headers = request.headers();
      exchanges.push({
        url: request.url().split('?')[0] ?? '',
        method: request.method(),
        authorization: headers['authorization'],
        dpop: headers['dpop'],
      });
    });
    page.on('response', (response) => {
      const request = response.request();
      const found = exchanges.findLast(
        (e) =>
          e.url === request.url().split('?')[0] && e.method === request.method() && e.status === undefined,
      );
      if (!found) return;
      found.status = response.status();
      if (response.status() >= 400) {
        void response.text().then(
          (text) => {
            found.error = text;
          },
          () => undefined,
        );
      }
    });
    return exchanges;
  }

  it(
    'signs in with useDpop, gets a DPoP-bound token and lists authentication methods with DPoP proofs',
    { timeout: 60_000 },
    async () => {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const exchanges = record(page);
      try {
        await page.goto(`${host.origin}/`);
        await page.evaluate(clientScript(clientOptions()));
        void page.evaluate('window.app.loginWithRedirect()');
        await page.waitForURL(/\/u\/login\?/);
        await page.getByLabel('Email address or username').fill(EMAIL);
        await page.getByLabel('Password').fill(PASSWORD);
        await page.getByRole('button', { name: 'Continue', exact: true }).click();
        await page.waitForURL(`${host.origin}/callback?**`);
        await page.evaluate(clientScript(clientOptions()));
        await page.evaluate('window.app.handleRedirectCallback()');

        const tokens = await page.evaluate<{ access_token: string; token_type?: string }>(
          'window.app.getTokenSilently({ detailedResponse: true })',
        );
        expect(tokens.token_type).toBe('DPoP');
        const claims = jwtPayload(tokens.access_token);
        expect(claims).toMatchObject({ sub: userId, azp: clientId, cnf: { jkt: expect.any(String) } });

        // The code exchange carried a proof; a public client is first asked for a server nonce (spec 1.8).
        const tokenCalls = exchanges.filter((e) => e.url === `${domain}/oauth/token`);
        expect(tokenCalls.every((e) => typeof e.dpop === 'string')).toBe(true);
        expect(tokenCalls.map((e) => e.status)).toEqual([400, 200]);
        expect(tokenCalls[0]?.error).toContain('use_dpop_nonce');

        const methods = await page.evaluate<{ type: string }[]>(
          'window.app.myAccount.getAuthenticationMethods()',
        );
        expect(methods.map((m) => m.type)).toEqual(['password']);
        const reads = exchanges.filter((e) => e.url === `${domain}/me/v1/authentication-methods`);
        expect(reads.length).toBeGreaterThan(0);
        for (const read of reads) {
          expect(read.authorization).toBe(`DPoP ${tokens.access_token}`);
          const proof = jwtPayload(read.dpop ?? '');
          expect(proof).toMatchObject({
            htm: 'GET',
            htu: `${domain}/me/v1/authentication-methods`,
            ath: expect.any(String),
          });
        }
        // The resource side issues no nonce challenge, so the first proof is answered.
        expect(reads.map((r) => r.status)).toEqual([200]);

        // The same token without its proof is refused.
        const asBearer = await fetch(`${domain}/me/v1/authentication-methods`, {
          headers: { authorization: `Bearer ${tokens.access_token}` },
        });
        expect(asBearer.status).toBe(401);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    },
  );
});
