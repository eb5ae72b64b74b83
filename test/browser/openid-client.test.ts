import { createServer, type Server } from 'node:http';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildListeningTestApp, type TestApp } from '../helpers/build-test-app.js';
import { hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';
import { freePort } from '../helpers/ports.js';

const PASSWORD = 'Pass-word-123';

interface Pending {
  readonly verifier: string;
  readonly nonce: string;
}

/**
 * A server-side web application written with openid-client v6, as its documentation shows: /login sends the
 * browser to /authorize with PKCE, /callback exchanges the code and reads userinfo, /logout sends the browser
 * to the discovered end_session_endpoint. What it learns it shows as JSON.
 */
function relyingParty(config: oidc.Configuration, origin: string): Server {
  const pending = new Map<string, Pending>();
  let idToken = '';
  const json = (res: import('node:http').ServerResponse, body: unknown) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    void (async () => {
      if (url.pathname === '/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        pending.set(state, { verifier, nonce });
        const target = oidc.buildAuthorizationUrl(config, {
          redirect_uri: `${origin}/callback`,
          scope: 'openid profile email',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        res.writeHead(302, { location: target.href }).end();
        return;
      }
      if (url.pathname === '/callback') {
        const state = url.searchParams.get('state') ?? '';
        const expected = pending.get(state);
        pending.delete(state);
        if (!expected) return json(res, { error: 'unknown state' });
        const tokens = await oidc.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: expected.verifier,
          expectedState: state,
          expectedNonce: expected.nonce,
        });
        idToken = tokens.id_token ?? '';
        const claims = tokens.claims();
        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims?.sub ?? '');
        return json(res, { sub: claims?.sub, sid: claims?.['sid'], userinfo: info });
      }
      if (url.pathname === '/logout') {
        const target = oidc.buildEndSessionUrl(config, {
          id_token_hint: idToken,
          post_logout_redirect_uri: `${origin}/signed-out`,
          state: 'bye',
        });
        res.writeHead(302, { location: target.href }).end();
        return;
      }
      json(res, { page: url.pathname, state: url.searchParams.get('state') });
    })().catch((error: unknown) => {
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: String(error) }));
    });
  });
}

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('openid-client as a relying party in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let rp: Server;
  let origin: string;
  let issuer: string;
  let userId: string;

  beforeAll(async () => {
    t = await buildListeningTestApp();
    issuer = t.issuer;
    const rpPort = await freePort();
    origin = `http://localhost:${String(rpPort)}`;
    const make = createFactories(t.deps);
    const client = await make.client({
      name: 'Orders Portal',
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [`${origin}/callback`], allowed_logout_urls: [`${origin}/signed-out`] },
    });
    await make.enableConnection(client.clientId);
    userId = (await make.user({ email: 'portal.user@example.com', name: 'Portal User', password: PASSWORD }))
      .userId;
    const config = await oidc.discovery(new URL(issuer), client.clientId, client.clientSecret, undefined, {
      // Deprecated only to stand out: it exists for testing against a plain-http issuer, as here.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      execute: [oidc.allowInsecureRequests],
    });
    rp = relyingParty(config, origin);
    await new Promise<void>((resolve) => rp.listen(rpPort, '127.0.0.1', resolve));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    rp.close();
    await t.close();
  });

  it('signs in with the code flow and PKCE, then logs out through the end_session_endpoint', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${origin}/login`);
      await page.waitForURL(/\/u\/login\?/);
      await page.getByLabel('Email address or username').fill('portal.user@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${origin}/callback?**`);
      const signedIn = JSON.parse((await page.textContent('body')) ?? '{}') as Record<string, unknown>;
      expect(signedIn).toMatchObject({
        sub: userId,
        sid: expect.stringMatching(/^ses_/),
        userinfo: { sub: userId, email: 'portal.user@example.com', name: 'Portal User' },
      });

      await page.goto(`${origin}/logout`);
      await page.waitForURL(`${origin}/signed-out?**`);
      expect(JSON.parse((await page.textContent('body')) ?? '{}')).toEqual({
        page: '/signed-out',
        state: 'bye',
      });
      // The session is gone: the next sign-in shows the login page again.
      await page.goto(`${origin}/login`);
      await page.waitForURL(/\/u\/login\?/);
    } finally {
      await page.close();
    }
  });
});
