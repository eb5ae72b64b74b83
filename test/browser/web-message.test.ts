import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/domain/client.js';
import { pkcePair } from '../helpers/authorize.js';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { checkPage, hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';
import { freePort } from '../helpers/ports.js';

const SPA_JS = readFileSync(
  createRequire(import.meta.url).resolve('@auth0/auth0-spa-js/dist/auth0-spa-js.production.js'),
  'utf8',
);

/**
 * The application's origin: a page that embeds /authorize?response_mode=web_message in a hidden iframe, as
 * auth0-spa-js's silent authentication does, and keeps every message it receives; its callback; and
 * auth0-spa-js itself, served from here (no third-party asset).
 */
function appServer(): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    if (url.pathname === '/auth0-spa-js.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(SPA_JS);
      return;
    }
    if (url.pathname === '/frame') {
      const src = url.searchParams.get('src') ?? '';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html lang="en"><head><title>App</title></head><body><h1>App</h1>
<script>
  window.received = [];
  window.addEventListener('message', function (e) { window.received.push({ origin: e.origin, data: e.data }); });
  var iframe = document.createElement('iframe');
  iframe.style.display = 'none';
  iframe.src = ${JSON.stringify(src).replaceAll('<', '\\u003c')};
  document.body.appendChild(iframe);
</script></body></html>`);
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<!doctype html><html lang="en"><head><title>App</title></head><body><h1>App</h1></body></html>');
  });
}

interface Received {
  origin: string;
  data: { type: string; response: Record<string, string> };
}

describe.skipIf(!hasChromium)('response_mode=web_message in Chromium (silent authentication)', () => {
  let t: TestApp;
  let browser: Browser;
  let app: Server;
  let issuer: string;
  let appOrigin: string;
  let spa: Client;
  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}/`;
    // Another port of the same host: another origin, the same site (the plain-http session cookie is Lax).
    const appPort = await freePort();
    appOrigin = `http://127.0.0.1:${appPort}`;
    t = await buildTestApp(undefined, { issuer });
    await t.app.listen({ port, host: '127.0.0.1' });
    app = appServer();
    await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
    const make = createFactories(t.deps);
    spa = await make.client({
      name: 'Silent SPA',
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'implicit', 'refresh_token'],
      settings: { callbacks: [`${appOrigin}/callback`], web_origins: [appOrigin] },
    });
    await make.enableConnection(spa.clientId);
    await make.user({ email: 'silent@example.com' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    await new Promise((resolve) => app.close(resolve));
    await t.close();
  });

  const authorizeUrl = (extra: Record<string, string>) =>
    `${issuer}authorize?${new URLSearchParams({
      client_id: spa.clientId,
      redirect_uri: `${appOrigin}/callback`,
      scope: 'openid profile',
      nonce: 'nonce-1',
      ...extra,
    }).toString()}`;

  /** Opens the application's page with the silent iframe and waits for the message it posts. */
  async function silently(extra: Record<string, string>): Promise<Received[]> {
    const page = await browser.context.newPage();
    try {
      const src = authorizeUrl({ response_mode: 'web_message', prompt: 'none', ...extra });
      await page.goto(`${appOrigin}/frame?${new URLSearchParams({ src }).toString()}`);
      await page.waitForFunction('window.received.length > 0', undefined, { timeout: 5000 });
      // Give a second message (there must be none) a moment to arrive.
      await page.waitForTimeout(200);
      return await page.evaluate<Received[]>('window.received');
    } finally {
      await page.close();
    }
  }

  const state = 'st "<>&\u00e9 1';

  it('without a session: login_required, posted to the application', async () => {
    const pkce = pkcePair();
    const got = await silently({
      response_type: 'code',
      state,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    expect(got).toEqual([
      {
        origin: issuer.slice(0, -1),
        data: {
          type: 'authorization_response',
          response: { error: 'login_required', error_description: 'Login required', state },
        },
      },
    ]);
  });

  it('auth0-spa-js loginWithPopup: the login page in a popup answers its opener by web_message', async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    try {
      await page.goto(`${appOrigin}/`);
      await page.addScriptTag({ url: `${appOrigin}/auth0-spa-js.js` });
      const opened = page.waitForEvent('popup', { timeout: 5000 });
      await page.evaluate(`
        window.client = new auth0.Auth0Client({
          domain: ${JSON.stringify(issuer.slice(0, -1))},
          clientId: ${JSON.stringify(spa.clientId)},
          authorizationParams: { redirect_uri: ${JSON.stringify(`${appOrigin}/callback`)} },
        });
        window.login = window.client.loginWithPopup().then(
          () => window.client.getUser(),
          (e) => ({ error: e.error ?? e.message }),
        );
        // Not awaited here: the test signs in in the popup first.
        undefined;
      `);
      const popup = await opened;
      popup.setDefaultTimeout(5000);
      await popup.waitForURL(`${issuer}u/login?**`, { timeout: 5000 });
      await popup.getByLabel('Email address or username').fill('silent@example.com');
      await popup.getByLabel('Password').fill('Pass-word-123');
      await popup.getByRole('button', { name: 'Continue' }).click();
      const user = await page.evaluate<Record<string, unknown>>('window.login');
      expect(user).toMatchObject({ email: 'silent@example.com' });
    } finally {
      await page.close();
    }
  });

  it('after a sign-in on the login page: a code, then tokens, posted to the application', async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    try {
      const pkce = pkcePair();
      await page.goto(
        authorizeUrl({
          response_type: 'code',
          state: 'interactive',
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        }),
      );
      await page.getByLabel('Email address or username').fill('silent@example.com');
      await page.getByLabel('Password').fill('Pass-word-123');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${appOrigin}/callback?**`, { timeout: 5000 });
    } finally {
      await page.close();
    }

    const pkce = pkcePair();
    const [message, ...more] = await silently({
      response_type: 'code',
      state,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    expect(more).toEqual([]);
    expect(message).toEqual({
      origin: issuer.slice(0, -1),
      data: { type: 'authorization_response', response: { code: expect.any(String), state } },
    });
    // The code is a normal one: the application exchanges it.
    const res = await fetch(`${issuer}oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: spa.clientId,
        code: message?.data.response['code'] ?? '',
        code_verifier: pkce.verifier,
        redirect_uri: `${appOrigin}/callback`,
      }),
    });
    expect(res.status).toBe(200);

    const [implicit] = await silently({ response_type: 'token id_token', state });
    expect(Object.keys(implicit?.data.response ?? {}).sort()).toEqual([
      'access_token',
      'expires_in',
      'id_token',
      'scope',
      'state',
      'token_type',
    ]);
  });

  it('implicit: the tokens reach the application in the fragment, never sent to its server', async () => {
    const page = await browser.context.newPage();
    const seen: string[] = [];
    page.on('request', (request) => seen.push(request.url()));
    try {
      await page.goto(authorizeUrl({ response_type: 'id_token token', state }));
      await page.waitForURL(`${appOrigin}/callback#**`, { timeout: 5000 });
      const fragment = new URLSearchParams(new URL(page.url()).hash.slice(1));
      expect([...fragment.keys()].sort()).toEqual([
        'access_token',
        'expires_in',
        'id_token',
        'scope',
        'state',
        'token_type',
      ]);
      expect(fragment.get('state')).toBe(state);
      // A fragment never leaves the browser: the application's server saw the bare callback.
      expect(seen.filter((url) => url.startsWith(appOrigin))).toEqual([`${appOrigin}/callback`]);
    } finally {
      await page.close();
    }
  });

  it('auth0-spa-js getTokenSilently: the iframe, web_message and the code exchange with CORS', async () => {
    // The session from the previous test is still in the browser.
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(`${appOrigin}/`);
      await page.addScriptTag({ url: `${appOrigin}/auth0-spa-js.js` });
      const result = await page.evaluate<{ token: string; claims: Record<string, unknown> }>(`(async () => {
        const client = new auth0.Auth0Client({
          domain: ${JSON.stringify(issuer.slice(0, -1))},
          clientId: ${JSON.stringify(spa.clientId)},
          authorizationParams: { redirect_uri: ${JSON.stringify(`${appOrigin}/callback`)} },
        });
        const token = await client.getTokenSilently();
        const claims = await client.getIdTokenClaims();
        return { token, claims };
      })()`);
      expect(result.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(result.claims).toMatchObject({ email: 'silent@example.com', iss: issuer, aud: spa.clientId });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('the web_message page itself: no serious accessibility violation, no CSP refusal', async () => {
    const report = await checkPage(
      browser,
      authorizeUrl({ response_type: 'token', response_mode: 'web_message', state: 'page' }),
      'web-message',
    );
    expect(report.errors).toEqual([]);
    expect(report.violations).toEqual([]);
  });
});
