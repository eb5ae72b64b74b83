import type { Server } from 'node:http';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';
import { jwtPayload } from '../helpers/http.js';
import { configureMfa } from '../helpers/mfa.js';
import { freePort } from '../helpers/ports.js';
import { startTlsProxy, type TlsProxy } from '../helpers/tls-proxy.js';
import { startSpaHost } from '../helpers/spa-host.js';

const PASSWORD = 'Pass-word-123';
const API = 'https://orders.example.com/';

/** Page-side `createAuth0Client`, kept on `window.app`; a string since this project compiles without DOM types. */
function clientScript(options: { domain: string; clientId: string; redirectUri: string }): string {
  return `(async () => {
    const o = ${JSON.stringify(options)};
    window.app = await auth0.createAuth0Client({
      domain: o.domain,
      clientId: o.clientId,
      useRefreshTokens: true,
      cacheLocation: 'localstorage',
      authorizationParams: { redirect_uri: o.redirectUri, audience: ${JSON.stringify(API)}, scope: 'openid profile email read:orders' },
    });
  })()`;
}

/** A refresh the tenant's MFA policy stops: auth0-spa-js throws MfaRequiredError with the mfa_token. */
const REFRESH_SCRIPT = `(async () => {
  try {
    await window.app.getTokenSilently({ cacheMode: 'off' });
    return { mfaRequired: false };
  } catch (e) {
    return { mfaRequired: e instanceof auth0.MfaRequiredError, error: e.error, mfaToken: e.mfa_token };
  }
})()`;

// auth0-spa-js's MfaApiClient speaks to https://{domain} (through auth0-auth-js), so the server sits behind the
// TLS proxy. Skipped with a notice from global-setup when Chromium is missing.
describe.skipIf(!hasChromium)("auth0-spa-js's MfaApiClient against Latchkey in Chromium", () => {
  let t: TestApp;
  let proxy: TlsProxy;
  let browser: Browser;
  let host: { server: Server; origin: string };
  let domain: string;
  let clientId: string;
  let userId: string;

  beforeAll(async () => {
    host = await startSpaHost('Orders');
    proxy = await startTlsProxy();
    domain = `localhost:${proxy.domain.split(':')[1] ?? ''}`;
    t = await buildTestApp(undefined, { issuer: `https://${domain}/` });
    const port = await freePort();
    await t.app.listen({ port, host: '127.0.0.1' });
    proxy.forwardTo(port);
    const make = createFactories(t.deps);
    await make.api({ identifier: API, scopes: [{ value: 'read:orders' }], allowOfflineAccess: true });
    const client = await make.client({
      name: 'Orders',
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: [
        'authorization_code',
        'refresh_token',
        'http://auth0.com/oauth/grant-type/mfa-otp',
        'http://auth0.com/oauth/grant-type/mfa-recovery-code',
      ],
      settings: { callbacks: [`${host.origin}/callback`], web_origins: [host.origin] },
    });
    clientId = client.clientId;
    await make.enableConnection(clientId);
    userId = (await make.user({ email: 'mfa.spa@example.com', password: PASSWORD })).userId;
    // The factors are on; the policy comes after the sign-in.
    await configureMfa(t, { otp: true, 'recovery-code': true }, []);
    browser = await launchBrowser({ ignoreHTTPSErrors: true });
  });
  afterAll(async () => {
    await browser.close();
    host.server.close();
    await t.close();
    await proxy.close();
  });

  it('turns a refresh into MfaRequiredError, then enrols and verifies TOTP with app.mfa', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const options = { domain, clientId, redirectUri: `${host.origin}/callback` };
    try {
      await page.goto(`${host.origin}/`);
      await page.evaluate(clientScript(options));
      void page.evaluate('window.app.loginWithRedirect()');
      await page.waitForURL(/\/u\/login\?/);
      await page.getByLabel('Email address or username').fill('mfa.spa@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${host.origin}/callback?**`);
      await page.evaluate(clientScript(options));
      await page.evaluate('window.app.handleRedirectCallback()');

      await configureMfa(t, {}, ['all-applications']);
      const refused = await page.evaluate<{ mfaRequired: boolean; error: string; mfaToken: string }>(
        REFRESH_SCRIPT,
      );
      expect(refused).toMatchObject({ mfaRequired: true, error: 'mfa_required' });
      const mfaToken = refused.mfaToken;
      expect(mfaToken).toEqual(expect.any(String));

      const call = <T>(expression: string) =>
        page.evaluate<T, string>(
          (source) => (0, eval)(source) as T,
          `(async () => { const mfaToken = ${JSON.stringify(mfaToken)}; return ${expression}; })()`,
        );
      expect(await call('window.app.mfa.getAuthenticators(mfaToken)')).toEqual([]);
      const enrolled = await call<{ authenticatorType: string; secret: string; recoveryCodes: string[] }>(
        "window.app.mfa.enroll({ mfaToken, factorType: 'otp' })",
      );
      expect(enrolled).toMatchObject({ authenticatorType: 'otp', recoveryCodes: [expect.any(String)] });
      const otp = await generate({ secret: enrolled.secret, epoch: Math.floor(t.clock.now() / 1000) });
      const wrong = await call<{ name: string; error: string }>(
        "window.app.mfa.verify({ mfaToken, otp: '000000' }).then(() => ({}), (e) => ({ error: e.error, message: e.message }))",
      );
      expect(wrong).toMatchObject({ error: 'invalid_grant' });
      const verified = await call<{ access_token: string; refresh_token?: string }>(
        `window.app.mfa.verify({ mfaToken, otp: ${JSON.stringify(otp)} })`,
      );
      const claims = jwtPayload(verified.access_token);
      // The refresh token's sign-in recorded no method references; the second factor's are added.
      expect(claims).toMatchObject({ sub: userId, amr: ['otp', 'mfa'] });
      expect(claims['aud']).toEqual([API, `https://${domain}/userinfo`]);

      // The factor is listed now; the new refresh token carries the second factor and refreshes freely.
      const listed = await call<{ authenticatorType: string; active: boolean }[]>(
        `window.app.mfa.getAuthenticators(${JSON.stringify(mfaToken)})`,
      ).catch((e: unknown) => e);
      // The mfa_token was used up by the verify.
      expect(listed).toBeInstanceOf(Error);
      const again = await page.evaluate<string>("window.app.getTokenSilently({ cacheMode: 'off' })");
      expect(jwtPayload(again)['sub']).toBe(userId);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
