import type { Server } from 'node:http';
import type { CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MY_ACCOUNT_SCOPES } from '../../src/management/resource-servers/my-account.js';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js';
import { checkPage, hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';
import { createFactories } from '../helpers/factories.js';
import { api, jwtPayload } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startTlsProxy, type TlsProxy } from '../helpers/tls-proxy.js';
import { startSpaHost } from '../helpers/spa-host.js';

const PASSWORD = 'Pass-word-123';
const ME_SCOPES = [
  'read:me:authentication_methods',
  'create:me:authentication_methods',
  'update:me:authentication_methods',
  'delete:me:authentication_methods',
];

/** Page-side `createAuth0Client`, kept on `window.app`; a string since this project compiles without DOM types. */
function clientScript(options: { domain: string; clientId: string; redirectUri: string }): string {
  return `(async () => {
    const o = ${JSON.stringify(options)};
    window.app = await auth0.createAuth0Client({
      domain: o.domain,
      clientId: o.clientId,
      cacheLocation: 'localstorage',
      authorizationParams: {
        redirect_uri: o.redirectUri,
        audience: o.domain + '/me/',
        scope: ${JSON.stringify(ME_SCOPES.join(' '))},
      },
    });
  })()`;
}

/**
 * Page-side enrolment as an application writes it with auth0-spa-js: the SDK's MyAccountApiClient starts it,
 * the browser's WebAuthn API makes the credential from the options (JSON → PublicKeyCredential options the
 * standard way), the SDK verifies it, then lists the methods.
 */
const ENROL_SCRIPT = `(async () => {
  const challenge = await window.app.myAccount.enrollmentChallenge({ type: 'passkey' });
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(challenge.authn_params_public_key);
  const credential = await navigator.credentials.create({ publicKey });
  const verified = await window.app.myAccount.enrollmentVerify({
    type: 'passkey',
    location: challenge.location,
    auth_session: challenge.auth_session,
    authn_response: credential.toJSON(),
  });
  const methods = await window.app.myAccount.getAuthenticationMethods();
  return { challenge, credentialId: credential.id, verified, methods };
})()`;

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('My Account passkeys from an application page in Chromium', () => {
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
      settings: {
        callbacks: [`${host.origin}/callback`],
        web_origins: [host.origin],
        allowed_logout_urls: [`${host.origin}/signed-out`],
      },
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
    // Passkeys on for the connection, offered after a password sign-in to users who have none.
    const connection = await t.deps.store.connections.findByName('Username-Password-Authentication');
    const patched = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/connections/${connection?.id ?? ''}`,
      token: await t.managementToken(),
      body: {
        options: {
          authentication_methods: { password: { enabled: true }, passkey: { enabled: true } },
          passkey_options: { progressive_enrollment_enabled: true },
        },
      },
    });
    expect(patched.statusCode).toBe(200);
    userId = (await make.user({ email: 'passkey.user@example.com', password: PASSWORD })).userId;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    host.server.close();
    await t.close();
  });

  const clientOptions = () => ({ domain, clientId, redirectUri: `${host.origin}/callback` });

  /**
   * Signs in with the password on the hosted login page. The user has no passkey yet, so the connection
   * offers one: the offer page is checked (axe, screenshots) and declined with "Not now".
   */
  async function signIn(page: Page): Promise<void> {
    await page.goto(`${host.origin}/`);
    await page.evaluate(clientScript(clientOptions()));
    void page.evaluate('window.app.loginWithRedirect()');
    await page.waitForURL(/\/u\/login\?/);
    await page.getByLabel('Email address or username').fill('passkey.user@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.waitForURL(/\/u\/passkey-offer\?/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Create a passkey');
    const report = await checkPage(browser, page.url(), 'passkey-offer');
    expect(report.errors).toEqual([]);
    expect(report.violations).toEqual([]);
    await page.getByRole('button', { name: 'Not now' }).click();
    await page.waitForURL(`${host.origin}/callback?**`);
    await page.evaluate(clientScript(clientOptions()));
    await page.evaluate('window.app.handleRedirectCallback()');
  }

  /** auth0-spa-js's logout (which ends the Latchkey session too), back at the application. */
  async function signOut(page: Page): Promise<void> {
    void page.evaluate(`window.app.logout({ logoutParams: { returnTo: '${host.origin}/signed-out' } })`);
    await page.waitForURL(`${host.origin}/signed-out**`);
    await page.evaluate(clientScript(clientOptions()));
  }

  /** At the callback: auth0-spa-js finishes the sign-in and answers its user. */
  async function signedInUser(page: Page): Promise<Record<string, unknown>> {
    await page.evaluate(clientScript(clientOptions()));
    await page.evaluate('window.app.handleRedirectCallback()');
    return page.evaluate<Record<string, unknown>>('window.app.getUser()');
  }

  /** Turns the tenant's MFA policy (with the authenticator-app factor) on or off through the Management API. */
  async function guardian(on: boolean): Promise<void> {
    const token = await t.managementToken();
    const factor = await api(t.app, {
      method: 'PUT',
      url: '/api/v2/guardian/factors/otp',
      token,
      body: { enabled: on },
    });
    expect(factor.statusCode).toBe(200);
    const policy = await api(t.app, {
      method: 'PUT',
      url: '/api/v2/guardian/policies',
      token,
      body: on ? ['all-applications'] : [],
    });
    expect(policy.statusCode).toBe(200);
  }

  async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return { cdp, authenticatorId };
  }

  it(
    "enrols a passkey through auth0-spa-js's MyAccountApiClient with the platform authenticator",
    { timeout: 60_000 },
    async () => {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      try {
        await signIn(page);
        const token = await page.evaluate<string>('window.app.getTokenSilently()');
        expect(jwtPayload(token)).toMatchObject({ sub: userId, azp: clientId });
        expect(jwtPayload(token)['aud']).toContain(`${domain}/me/`);

        const { cdp, authenticatorId } = await virtualAuthenticator(page);
        const result = await page.evaluate<{
          challenge: Record<string, unknown> & { authn_params_public_key: { rp: unknown } };
          credentialId: string;
          verified: Record<string, unknown>;
          methods: Record<string, unknown>[];
        }>(ENROL_SCRIPT);

        expect(result.challenge['id']).toBe('passkey|new');
        expect(result.challenge['location']).toBe(`${domain}/me/v1/authentication-methods/passkey%7Cnew`);
        expect(result.challenge.authn_params_public_key.rp).toEqual({ id: 'localhost', name: 'Latchkey' });
        const userHandle = Buffer.from(userId, 'utf8').toString('base64url');
        expect(result.verified).toMatchObject({
          id: expect.stringMatching(/^passkey\|dev_/),
          type: 'passkey',
          usage: ['primary'],
          identity_user_id: userId,
          key_id: result.credentialId,
          user_handle: userHandle,
          relying_party_id: 'localhost',
          credential_device_type: 'single_device',
          credential_backed_up: false,
        });
        expect(result.methods.filter((m) => m['type'] === 'passkey')).toEqual([result.verified]);

        // The authenticator holds the same discoverable credential, for the issuer's host and this user.
        const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
        expect(credentials).toHaveLength(1);
        expect(credentials[0]).toMatchObject({ rpId: 'localhost', isResidentCredential: true });
        expect(Buffer.from(credentials[0]?.credentialId ?? '', 'base64').toString('base64url')).toBe(
          result.credentialId,
        );
        expect(Buffer.from(credentials[0]?.userHandle ?? '', 'base64').toString('base64url')).toBe(
          userHandle,
        );

        // Signed out (auth0-spa-js's logout ends the Latchkey session too), then back in with the passkey: the
        // login page's autofill request (conditional UI) is answered by the authenticator as soon as it loads.
        await signOut(page);
        void page.evaluate('window.app.loginWithRedirect()');
        await page.waitForURL(`${host.origin}/callback?**`);
        expect(await signedInUser(page)).toMatchObject({ sub: userId });

        // A browser without passkey autofill: the user presses "Continue with a passkey".
        await signOut(page);
        await page.addInitScript(
          'if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);',
        );
        void page.evaluate('window.app.loginWithRedirect()');
        await page.waitForURL(/\/u\/login\?/);
        const button = page.getByRole('button', { name: 'Continue with a passkey' });
        await button.waitFor();
        expect(await page.getByLabel('Email address or username').getAttribute('autocomplete')).toBe(
          'username webauthn',
        );
        const report = await checkPage(browser, page.url(), 'login-passkey');
        expect(report.errors).toEqual([]);
        expect(report.violations).toEqual([]);
        await button.click();
        await page.waitForURL(`${host.origin}/callback?**`);
        expect(await signedInUser(page)).toMatchObject({ sub: userId });
        const { credentials: used } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
        // Each sign-in moved the stored counter to the authenticator's.
        const [stored] = await t.deps.store.passkeys.listForUser(userId);
        expect(used[0]?.signCount).toBeGreaterThanOrEqual(2);
        expect(stored?.counter).toBe(used[0]?.signCount);

        // Issue 12: with MFA demanded, a password sign-in asks for the passkey as the second factor on /u/mfa.
        await signOut(page);
        await guardian(true);
        try {
          void page.evaluate('window.app.loginWithRedirect()');
          await page.waitForURL(/\/u\/login\?/);
          await page.getByLabel('Email address or username').fill('passkey.user@example.com');
          await page.getByLabel('Password').fill(PASSWORD);
          await page.getByRole('button', { name: 'Continue', exact: true }).click();
          await page.waitForURL(/\/u\/mfa\?/);
          const second = page.getByRole('button', { name: 'Use a passkey' });
          await second.waitFor();
          const mfaReport = await checkPage(browser, page.url(), 'mfa-passkey');
          expect(mfaReport.errors).toEqual([]);
          expect(mfaReport.violations).toEqual([]);
          await second.click();
          await page.waitForURL(`${host.origin}/callback?**`);
          expect(await signedInUser(page)).toMatchObject({ sub: userId });
          const claims = await page.evaluate<Record<string, unknown>>('window.app.getIdTokenClaims()');
          expect(claims['amr']).toEqual(['pwd', 'hwk', 'user', 'mfa']);
        } finally {
          await guardian(false);
        }
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    },
  );
});

/**
 * Page-side passkey sign-up as an application writes it with auth0-spa-js: `auth0.passkey.signup` (the SDK's
 * PasskeyApiClient) calls /passkey/register, runs navigator.credentials.create and finishes with the webauthn
 * grant; then the SDK's own user and token.
 */
const SIGNUP_SCRIPT = `(async () => {
  const tokens = await window.app.passkey.signup({ email: 'new.passkey@example.com', name: 'New Passkey' });
  return { tokens, user: await window.app.getUser() };
})()`;

// PasskeyApiClient speaks https only ("https://" + domain): Latchkey sits behind a TLS proxy here, with its
// issuer on localhost (the rp id), while the application's page is http://localhost, a secure context.
describe.skipIf(!hasChromium)("auth0-spa-js's PasskeyApiClient signing a new user up in Chromium", () => {
  let t: TestApp;
  let proxy: TlsProxy;
  let browser: Browser;
  let host: { server: Server; origin: string };
  let domain: string;
  let clientId: string;

  beforeAll(async () => {
    host = await startSpaHost('Account settings');
    proxy = await startTlsProxy();
    domain = `localhost:${proxy.domain.split(':')[1] ?? ''}`;
    t = await buildTestApp(undefined, { issuer: `https://${domain}/` });
    const port = await freePort();
    await t.app.listen({ port, host: '127.0.0.1' });
    proxy.forwardTo(port);
    const make = createFactories(t.deps);
    const client = await make.client({
      name: 'Passkey shop',
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'urn:okta:params:oauth:grant-type:webauthn'],
      settings: { callbacks: [`${host.origin}/callback`], web_origins: [host.origin] },
    });
    clientId = client.clientId;
    await make.enableConnection(clientId);
    const connection = await t.deps.store.connections.findByName('Username-Password-Authentication');
    const patched = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/connections/${connection?.id ?? ''}`,
      token: await t.managementToken(),
      body: { options: { authentication_methods: { passkey: { enabled: true } } } },
    });
    expect(patched.statusCode).toBe(200);
    // The self-signed certificate of the proxy; the application's page itself has no certificate to doubt.
    browser = await launchBrowser({ ignoreHTTPSErrors: true });
  });
  afterAll(async () => {
    await browser.close();
    host.server.close();
    await t.close();
    await proxy.close();
  });

  it('signs a new user up with a passkey made by the platform authenticator', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(`${host.origin}/`);
      await page.evaluate(
        clientScript({ domain, clientId, redirectUri: `${host.origin}/callback` }).replace(
          `audience: o.domain + '/me/',`,
          '',
        ),
      );
      const cdp = await browser.context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      const result = await page.evaluate<{
        tokens: { id_token: string; access_token: string };
        user: Record<string, unknown>;
      }>(SIGNUP_SCRIPT);

      const [created] = await t.deps.store.users.findByEmail('new.passkey@example.com');
      expect(created?.name).toBe('New Passkey');
      const idToken = jwtPayload(result.tokens.id_token);
      expect(idToken).toMatchObject({ iss: `https://${domain}/`, sub: created?.userId, aud: clientId });
      expect(result.user).toMatchObject({ sub: created?.userId });

      // The passkey is the authenticator's discoverable credential, stored for the new user.
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]).toMatchObject({ rpId: 'localhost', isResidentCredential: true });
      const passkeys = await t.deps.store.passkeys.listForUser(created?.userId ?? '');
      expect(passkeys.map((p) => p.credentialId)).toEqual([
        Buffer.from(credentials[0]?.credentialId ?? '', 'base64').toString('base64url'),
      ]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
