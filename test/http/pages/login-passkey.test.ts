import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { authorize, CookieJar, hiddenFields, pkcePair, unescapeHtml } from '../../helpers/authorize.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { api, form, jwtPayload } from '../../helpers/http.js';
import { me, myAccountFixture, type MyAccountFixture } from '../../helpers/myaccount.js';
import {
  createSoftAuthenticator,
  type AuthenticationTamper,
  type SoftAuthenticator,
} from '../../helpers/soft-authenticator.js';

const ORIGIN = 'https://latchkey.test';
const CALLBACK = 'https://app.example.com/callback';
const DB = 'Username-Password-Authentication';
const NEW_LOCATION = `${TEST_ISSUER}me/v1/authentication-methods/passkey%7Cnew`;
const PASSWORD = 'Pass-word-123';

interface Started {
  auth_session: string;
  authn_params_public_key: PublicKeyCredentialCreationOptionsJSON;
}

function setCookieNames(res: LightMyRequestResponse): string[] {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((line) => line.split('=', 1)[0] ?? '');
}

describe.each(testBackends())('passkeys on the hosted login page on $name', (backend) => {
  let t: TestApp;
  let f: MyAccountFixture;
  let spa: Client;
  let connectionId: string;
  beforeAll(async () => {
    t = await buildTestApp(backend, {
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
    });
    f = await myAccountFixture(t);
    await f.activate();
    spa = await f.make.client({
      name: 'Shop',
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      settings: { callbacks: [CALLBACK] },
    });
    await f.make.enableConnection(spa.clientId);
    connectionId = (await t.deps.store.connections.findByName(DB))?.id ?? '';
    await passkeyOptions(true, false);
  });
  afterAll(async () => {
    await t.close();
  });

  /** Sets the connection's passkey options through the Management API. */
  async function passkeyOptions(enabled: boolean, progressive: boolean): Promise<void> {
    const res = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/connections/${connectionId}`,
      token: await t.managementToken(),
      body: {
        options: {
          authentication_methods: { password: { enabled: true }, passkey: { enabled } },
          passkey_options: {
            challenge_ui: 'both',
            local_enrollment_enabled: true,
            progressive_enrollment_enabled: progressive,
          },
        },
      },
    });
    expect(res.statusCode).toBe(200);
  }

  /** A user with a passkey enrolled through /me/v1 on `authenticator`. */
  async function userWithPasskey(email: string, authenticator: SoftAuthenticator): Promise<User> {
    const user = await f.make.user({ email });
    const token = await f.tokenFor(user);
    const started = await me(t, 'POST', '/authentication-methods', token, { type: 'passkey' });
    expect(started.statusCode).toBe(202);
    const { auth_session, authn_params_public_key } = started.json<Started>();
    const authn_response = authenticator.register(authn_params_public_key, ORIGIN);
    const verified = await me(t, 'POST', `${NEW_LOCATION}/verify`, token, { auth_session, authn_response });
    expect(verified.statusCode).toBe(201);
    return user;
  }

  /** /authorize, then the login page (with the transaction cookie in `jar`). */
  async function loginPage(jar: CookieJar, pkce = pkcePair()) {
    const started = await authorize(
      t.app,
      {
        client_id: spa.clientId,
        redirect_uri: CALLBACK,
        response_type: 'code',
        scope: 'openid profile email',
        state: 'st-passkey',
        nonce: 'n-passkey',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      },
      jar,
    );
    expect(started.statusCode).toBe(302);
    const page = await t.app.inject({
      method: 'GET',
      url: String(started.headers['location']),
      headers: { cookie: jar.header() },
    });
    expect(page.statusCode).toBe(200);
    return { page, pkce };
  }

  /** The request options the page hands @simplewebauthn/browser (the passkey form's data-options). */
  function pageOptions(html: string): PublicKeyCredentialRequestOptionsJSON {
    const raw = /<form [^>]*id="passkey-form" data-options="([^"]*)"/.exec(html)?.[1];
    if (raw === undefined) throw new Error('no passkey form');
    return JSON.parse(unescapeHtml(raw)) as PublicKeyCredentialRequestOptionsJSON;
  }

  function post(jar: CookieJar, url: string, fields: Record<string, string>) {
    return t.app.inject({
      method: 'POST',
      url,
      payload: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    });
  }

  /** What the page's script posts: the passkey form's fields with the browser's assertion. */
  function assertionFields(html: string, response: unknown): Record<string, string> {
    const fields = hiddenFields(html);
    return {
      state: fields['state'] ?? '',
      csrf: fields['csrf'] ?? '',
      challenge: fields['challenge'] ?? '',
      passkey_response: JSON.stringify(response),
    };
  }

  async function signInWithPasskey(
    jar: CookieJar,
    authenticator: SoftAuthenticator,
    tamper?: AuthenticationTamper,
  ) {
    const { page, pkce } = await loginPage(jar);
    const response = authenticator.authenticate(pageOptions(page.body), ORIGIN, tamper);
    const res = await post(jar, '/u/login/passkey', assertionFields(page.body, response));
    jar.take(res);
    return { res, pkce, page, response };
  }

  /** The redirect to the callback carries a code that exchanges for tokens of `user`. */
  async function expectCodeFor(res: LightMyRequestResponse, verifier: string, user: User) {
    expect(res.statusCode).toBe(302);
    const back = new URL(String(res.headers['location']));
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    expect(back.searchParams.get('state')).toBe('st-passkey');
    const tokens = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'authorization_code',
        client_id: spa.clientId,
        redirect_uri: CALLBACK,
        code: back.searchParams.get('code') ?? '',
        code_verifier: verifier,
      }),
    });
    expect(tokens.statusCode).toBe(200);
    const id = jwtPayload(tokens.json<{ id_token: string }>().id_token);
    expect(id).toMatchObject({ iss: TEST_ISSUER, sub: user.userId, aud: spa.clientId, nonce: 'n-passkey' });
    return id;
  }

  /** A refusal: the login page again, 400, with the passkey error, and no code. */
  function expectRefused(res: LightMyRequestResponse, text = 'Your passkey could not sign you in.') {
    expect(res.statusCode).toBe(400);
    expect(res.headers['location']).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain(`<div class="alert" role="alert" id="login-error">${text}`);
    expect(res.body).toContain('id="passkey-form"');
  }

  it('offers a discoverable passkey request on the login page, with its scripts served under the CSP', async () => {
    const { page } = await loginPage(new CookieJar());
    const options = pageOptions(page.body);
    expect(options).toEqual({
      challenge: expect.stringMatching(/^[\w-]{43}$/),
      timeout: 300_000,
      rpId: 'latchkey.test',
      userVerification: 'required',
    });
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(hiddenFields(page.body)['challenge']).toBe(options.challenge);
    expect(page.body).toContain('autocomplete="username webauthn"');
    expect(page.body).toMatch(
      /<button type="button" id="passkey-button" class="secondary">[\s\S]*Continue with a passkey<\/button>/,
    );
    // The passkey part shows only once the script finds WebAuthn: without JavaScript the password form is all.
    expect(page.body).toMatch(/<form [^>]*id="passkey-form"[^>]* hidden>/);
    const nonce = /script-src 'nonce-([^']+)'/.exec(String(page.headers['content-security-policy']))?.[1];
    const scripts = [...page.body.matchAll(/<script nonce="([^"]+)" src="([^"]+)"><\/script>/g)];
    expect(scripts.map((m) => m[1])).toEqual([nonce, nonce]);
    const [library, own] = scripts.map((m) => m[2] ?? '');
    expect(library).toMatch(/^\/u\/assets\/simplewebauthn-browser\.js\?v=[\w-]{12}$/);
    expect(own).toMatch(/^\/u\/assets\/login-passkey\.js\?v=[\w-]{12}$/);

    const lib = await t.app.inject({ method: 'GET', url: library ?? '' });
    expect(lib.statusCode).toBe(200);
    expect(lib.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(lib.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(lib.headers['x-content-type-options']).toBe('nosniff');
    expect(lib.body).toContain('SimpleWebAuthnBrowser');
    const script = await t.app.inject({ method: 'GET', url: own ?? '' });
    expect(script.statusCode).toBe(200);
    expect(script.body).toContain('useBrowserAutofill: true');
    expect((await t.app.inject({ method: 'GET', url: '/u/assets/nothing.js' })).statusCode).toBe(404);
  });

  it('signs in with a passkey enrolled through /me/v1 and logs the login', async () => {
    const authenticator = createSoftAuthenticator();
    const user = await userWithPasskey('pat@example.com', authenticator);
    const token = await f.tokenFor(user);
    const lastUse = async () =>
      (await me(t, 'GET', '/authentication-methods?type=passkey', token)).json<{
        authentication_methods: { last_auth_at?: string }[];
      }>().authentication_methods[0]?.last_auth_at;
    expect(await lastUse()).toBeUndefined();
    const logins = (await t.deps.store.users.findById(user.userId))?.loginsCount ?? 0;
    const jar = new CookieJar();
    const { res, pkce } = await signInWithPasskey(jar, authenticator);
    const id = await expectCodeFor(res, pkce.verifier, user);
    // A verified passkey is two factors (login/mfa-step.ts PASSKEY_AMR): no second-factor step follows.
    expect(id['amr']).toEqual(['hwk', 'user', 'mfa']);
    // My Account shows the use at once (its cached list of the user's passkeys is forgotten).
    expect(await lastUse()).toEqual(expect.any(String));
    expect(jar.get('auth0')).toMatch(/^[\w-]{43}$/);
    const [stored] = await t.deps.store.passkeys.listForUser(user.userId);
    expect(stored?.counter).toBe(1);
    expect(stored?.lastUsedAt).toEqual(expect.any(String));
    expect((await t.deps.store.users.findById(user.userId))?.loginsCount).toBe(logins + 1);

    await t.deps.events.flush();
    const logs = await api(t.app, {
      method: 'GET',
      url: `/api/v2/logs?q=${encodeURIComponent(`type:s AND client_id:"${spa.clientId}" AND user_id:"${user.userId}"`)}`,
      token: await t.managementTokenWith(['read:logs']),
    });
    expect(logs.json<Record<string, unknown>[]>()).toEqual([
      expect.objectContaining({
        type: 's',
        client_id: spa.clientId,
        connection: DB,
        user_id: user.userId,
        user_name: 'pat@example.com',
        strategy: 'auth0',
      }),
    ]);
  });

  it('refuses a tampered signature, a wrong challenge, another origin, a replay and an unknown passkey', async () => {
    const authenticator = createSoftAuthenticator();
    const user = await userWithPasskey('lee@example.com', authenticator);

    expectRefused((await signInWithPasskey(new CookieJar(), authenticator, { signature: 'corrupt' })).res);
    expectRefused(
      (await signInWithPasskey(new CookieJar(), authenticator, { challenge: 'A'.repeat(43) })).res,
    );
    expectRefused(
      (await signInWithPasskey(new CookieJar(), authenticator, { origin: 'https://evil.test' })).res,
    );
    expectRefused((await signInWithPasskey(new CookieJar(), authenticator, { rpId: 'evil.test' })).res);
    expectRefused((await signInWithPasskey(new CookieJar(), authenticator, { userVerified: false })).res);

    // A challenge the page never gave (the form's own field changed) is refused before any verification.
    const jar = new CookieJar();
    const { page } = await loginPage(jar);
    const options = pageOptions(page.body);
    const forged = { ...options, challenge: 'B'.repeat(43) };
    const forgedRes = await post(jar, '/u/login/passkey', {
      ...assertionFields(page.body, authenticator.authenticate(forged, ORIGIN)),
      challenge: forged.challenge,
    });
    expectRefused(forgedRes);

    // A replay of a good assertion: its challenge is spent, so the second post signs nobody in.
    const good = await signInWithPasskey(new CookieJar(), authenticator);
    expect(good.res.statusCode).toBe(302);
    const again = await loginPage(jar);
    const replay = await post(jar, '/u/login/passkey', {
      ...assertionFields(again.page.body, good.response),
      challenge: hiddenFields(good.page.body)['challenge'] ?? '',
    });
    expectRefused(replay);
    // The same response against the new challenge does not verify either.
    expectRefused(await post(jar, '/u/login/passkey', assertionFields(again.page.body, good.response)));

    // A passkey this server never enrolled.
    const stranger = createSoftAuthenticator();
    stranger.register(
      {
        challenge: 'c2VlZA',
        rp: { id: 'latchkey.test', name: 'x' },
        user: { id: 'dXNlcg', name: 'u', displayName: 'u' },
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      },
      ORIGIN,
    );
    expectRefused((await signInWithPasskey(new CookieJar(), stranger)).res);

    // Not JSON, or missing: the same refusal, never a 500.
    const bad = await loginPage(jar);
    expectRefused(
      await post(jar, '/u/login/passkey', {
        ...assertionFields(bad.page.body, {}),
        passkey_response: '{nope',
      }),
    );
    expectRefused(
      await post(jar, '/u/login/passkey', { ...assertionFields(bad.page.body, {}), passkey_response: '' }),
    );

    // Every refusal was logged as a failed login; the counter moved only for the one good sign-in.
    const [stored] = await t.deps.store.passkeys.listForUser(user.userId);
    expect(stored?.counter).toBe(authenticator.passkeys[0]?.signCount);
    await t.deps.events.flush();
    const logs = await api(t.app, {
      method: 'GET',
      url: `/api/v2/logs?q=${encodeURIComponent(`type:f AND user_id:"${user.userId}"`)}`,
      token: await t.managementTokenWith(['read:logs']),
    });
    expect(logs.json<Record<string, unknown>[]>().length).toBeGreaterThanOrEqual(5);
    expect(logs.json<Record<string, unknown>[]>()[0]).toMatchObject({
      type: 'f',
      description: 'Your passkey could not sign you in. Try again, or log in with your password.',
      details: { error: 'access_denied', reason: 'passkey_refused' },
    });
  });

  it('refuses a blocked user after the passkey verified, and the wrong CSRF token', async () => {
    const authenticator = createSoftAuthenticator();
    const user = await userWithPasskey('blocked@example.com', authenticator);
    const blocked = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      token: await t.managementToken(),
      body: { blocked: true },
    });
    expect(blocked.statusCode).toBe(200);
    const { res } = await signInWithPasskey(new CookieJar(), authenticator);
    expectRefused(res, 'Your account has been blocked. Contact the administrator.');
    expect(res.headers['set-cookie']).toBeUndefined();

    const jar = new CookieJar();
    const { page } = await loginPage(jar);
    const forged = await post(jar, '/u/login/passkey', {
      ...assertionFields(page.body, authenticator.authenticate(pageOptions(page.body), ORIGIN)),
      csrf: 'not-the-token',
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.headers['location']).toBeUndefined();
  });

  it('shows no passkey button when the connection has passkeys off, and refuses a passkey post', async () => {
    const authenticator = createSoftAuthenticator();
    await userWithPasskey('off@example.com', authenticator);
    const jar = new CookieJar();
    const before = await loginPage(jar);
    await passkeyOptions(false, false);
    try {
      const { page } = await loginPage(new CookieJar());
      expect(page.body).not.toContain('passkey');
      expect(page.body).toContain('autocomplete="username"');
      expect(page.body).not.toContain('<script');
      const res = await post(
        jar,
        '/u/login/passkey',
        assertionFields(before.page.body, authenticator.authenticate(pageOptions(before.page.body), ORIGIN)),
      );
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain(
        '<div class="alert" role="alert" id="login-error">Passkeys are not available for this application.',
      );
      expect(res.headers['location']).toBeUndefined();
    } finally {
      await passkeyOptions(true, false);
    }
  });

  describe('the passkey offer after a password sign-in', () => {
    beforeAll(async () => {
      await passkeyOptions(true, true);
    });
    afterAll(async () => {
      await passkeyOptions(true, false);
    });

    async function passwordSignIn(jar: CookieJar, email: string) {
      const { page, pkce } = await loginPage(jar);
      const fields = hiddenFields(page.body);
      const res = await post(jar, '/u/login', {
        state: fields['state'] ?? '',
        csrf: fields['csrf'] ?? '',
        username: email,
        password: PASSWORD,
      });
      jar.take(res);
      return { res, pkce };
    }

    async function offerPage(jar: CookieJar, res: LightMyRequestResponse) {
      expect(res.statusCode).toBe(303);
      const location = String(res.headers['location']);
      expect(location).toMatch(/^\/u\/passkey-offer\?state=/);
      const page = await t.app.inject({ method: 'GET', url: location, headers: { cookie: jar.header() } });
      expect(page.statusCode).toBe(200);
      const raw = /id="offer-form" data-options="([^"]*)"/.exec(page.body)?.[1] ?? '';
      const options = JSON.parse(unescapeHtml(raw)) as PublicKeyCredentialCreationOptionsJSON;
      const fields = hiddenFields(page.body);
      return { page, options, state: fields['state'] ?? '', csrf: fields['csrf'] ?? '' };
    }

    it('offers a passkey, creates it, and the authorization ends with a code; the passkey then signs in', async () => {
      const user = await f.make.user({ email: 'offer@example.com' });
      const jar = new CookieJar();
      const { res, pkce } = await passwordSignIn(jar, 'offer@example.com');
      const offer = await offerPage(jar, res);
      expect(offer.page.body).toContain('<h1 id="offer-title">Create a passkey</h1>');
      expect(offer.page.body).toMatch(/<button type="submit" id="offer-create">Create a passkey<\/button>/);
      expect(offer.page.body).toMatch(
        /<button type="submit" class="secondary" id="offer-skip">Not now<\/button>/,
      );
      expect(offer.options).toMatchObject({
        rp: { id: 'latchkey.test' },
        user: { id: Buffer.from(user.userId).toString('base64url'), name: 'offer@example.com' },
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        attestation: 'none',
      });
      // The login page of the same transaction is gone: the offer is its only way on.
      const login = await post(jar, '/u/login', {
        state: offer.state,
        csrf: offer.csrf,
        username: 'offer@example.com',
        password: PASSWORD,
      });
      expect(login.statusCode).toBe(400);

      const authenticator = createSoftAuthenticator();
      const listedPasskeys = async () =>
        (await me(t, 'GET', '/authentication-methods?type=passkey', await f.tokenFor(user))).json<{
          authentication_methods: unknown[];
        }>().authentication_methods;
      expect(await listedPasskeys()).toEqual([]);
      // A lying answer is refused on the offer page and stores nothing.
      const lying = await post(jar, '/u/passkey-offer', {
        state: offer.state,
        csrf: offer.csrf,
        choice: 'create',
        passkey_response: JSON.stringify(authenticator.register(offer.options, 'https://evil.test')),
      });
      expect(lying.statusCode).toBe(400);
      expect(lying.body).toContain('<div class="alert" role="alert">The passkey could not be created.');
      expect(await t.deps.store.passkeys.listForUser(user.userId)).toEqual([]);

      const created = {
        state: offer.state,
        csrf: offer.csrf,
        choice: 'create',
        passkey_response: JSON.stringify(authenticator.register(offer.options, ORIGIN)),
      };
      const done = await post(jar, '/u/passkey-offer', created);
      await expectCodeFor(done, pkce.verifier, user);
      const passkeys = await t.deps.store.passkeys.listForUser(user.userId);
      expect(passkeys).toHaveLength(1);
      expect(passkeys[0]?.credentialId).toBe(authenticator.passkeys.at(-1)?.credentialId);
      // The same form again finishes nothing and enrols nothing more.
      const twice = await post(jar, '/u/passkey-offer', created);
      expect(twice.statusCode).toBe(400);
      expect(twice.headers['location']).toBeUndefined();
      expect(await t.deps.store.passkeys.listForUser(user.userId)).toHaveLength(1);

      // It is listed by My Account at once and signs in on the login page, with no offer the next time.
      expect(await listedPasskeys()).toHaveLength(1);
      const next = await signInWithPasskey(new CookieJar(), authenticator);
      await expectCodeFor(next.res, next.pkce.verifier, user);
      const password = await passwordSignIn(new CookieJar(), 'offer@example.com');
      await expectCodeFor(password.res, password.pkce.verifier, user);
    });

    it('"Not now" ends the authorization with a code and stores nothing', async () => {
      const user = await f.make.user({ email: 'later@example.com' });
      const jar = new CookieJar();
      const { res, pkce } = await passwordSignIn(jar, 'later@example.com');
      const offer = await offerPage(jar, res);
      const skip = { state: offer.state, csrf: offer.csrf, choice: 'skip' };
      const forged = await post(jar, '/u/passkey-offer', { ...skip, csrf: 'forged' });
      expect(forged.statusCode).toBe(403);
      const done = await post(jar, '/u/passkey-offer', skip);
      await expectCodeFor(done, pkce.verifier, user);
      expect(await t.deps.store.passkeys.listForUser(user.userId)).toEqual([]);
      expect((await post(jar, '/u/passkey-offer', skip)).statusCode).toBe(400);
    });

    it('finishes nothing for a user blocked while the offer was on screen', async () => {
      const user = await f.make.user({ email: 'blocked.offer@example.com' });
      const jar = new CookieJar();
      const { res } = await passwordSignIn(jar, 'blocked.offer@example.com');
      const offer = await offerPage(jar, res);
      const blocked = await api(t.app, {
        method: 'PATCH',
        url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
        token: await t.managementToken(),
        body: { blocked: true },
      });
      expect(blocked.statusCode).toBe(200);
      const skip = await post(jar, '/u/passkey-offer', {
        state: offer.state,
        csrf: offer.csrf,
        choice: 'skip',
      });
      expect(skip.statusCode).toBe(400);
      expect(skip.headers['location']).toBeUndefined();
      expect(skip.body).toContain('Your account has been blocked. Contact the administrator.');
      expect(setCookieNames(skip)).not.toContain('auth0');
    });

    it('is not offered to a user who has a passkey, nor when progressive enrolment is off', async () => {
      const authenticator = createSoftAuthenticator();
      const user = await userWithPasskey('has@example.com', authenticator);
      const first = await passwordSignIn(new CookieJar(), 'has@example.com');
      await expectCodeFor(first.res, first.pkce.verifier, user);

      await f.make.user({ email: 'none@example.com' });
      await passkeyOptions(true, false);
      try {
        const other = await passwordSignIn(new CookieJar(), 'none@example.com');
        expect(other.res.statusCode).toBe(302);
        expect(String(other.res.headers['location'])).toMatch(
          /^https:\/\/app\.example\.com\/callback\?code=/,
        );
      } finally {
        await passkeyOptions(true, true);
      }
    });
  });

  describe('a passkey as the second factor after a password (issue 12)', () => {
    const guardian = async (enabled: boolean, policies: string[]) => {
      const token = await t.managementToken();
      const factor = await api(t.app, {
        method: 'PUT',
        url: '/api/v2/guardian/factors/otp',
        token,
        body: { enabled },
      });
      expect(factor.statusCode).toBe(200);
      const res = await api(t.app, {
        method: 'PUT',
        url: '/api/v2/guardian/policies',
        token,
        body: policies,
      });
      expect(res.statusCode).toBe(200);
    };
    /** Runs `body` with the tenant demanding MFA (the passkeys are enrolled before: My Account tokens come from the password grant). */
    async function withMfaPolicy(body: () => Promise<void>): Promise<void> {
      await guardian(true, ['all-applications']);
      try {
        await body();
      } finally {
        await guardian(false, []);
      }
    }

    /** The password on the login page, then the challenge page it leads to. */
    async function challengePage(jar: CookieJar, email: string) {
      const { page, pkce } = await loginPage(jar);
      const fields = hiddenFields(page.body);
      const res = await post(jar, '/u/login', {
        state: fields['state'] ?? '',
        csrf: fields['csrf'] ?? '',
        username: email,
        password: PASSWORD,
      });
      jar.take(res);
      expect(res.statusCode).toBe(303);
      const location = String(res.headers['location']);
      expect(location).toMatch(/^\/u\/mfa\?state=/);
      const challenge = await t.app.inject({
        method: 'GET',
        url: location,
        headers: { cookie: jar.header() },
      });
      expect(challenge.statusCode).toBe(200);
      return { page: challenge, pkce };
    }

    it('asks a password user with only a passkey for it, and signs in with amr pwd + hwk + mfa', async () => {
      const authenticator = createSoftAuthenticator();
      const user = await userWithPasskey('second-factor@example.com', authenticator);
      await withMfaPolicy(async () => {
        const jar = new CookieJar();
        const { page, pkce } = await challengePage(jar, 'second-factor@example.com');
        expect(page.body).toContain('Use the passkey you saved for this account');
        const options = pageOptions(page.body);
        // Only the user's own passkeys, and user verification required.
        expect(options.allowCredentials?.map((c) => c.id)).toEqual([authenticator.passkeys[0]?.credentialId]);
        expect(options.userVerification).toBe('required');
        const response = authenticator.authenticate(options, ORIGIN);
        const res = await post(jar, '/u/mfa/passkey', assertionFields(page.body, response));
        jar.take(res);
        const id = await expectCodeFor(res, pkce.verifier, user);
        expect(id['amr']).toEqual(['pwd', 'hwk', 'user', 'mfa']);
      });
    });

    it('refuses another user’s passkey, a tampered assertion and a spent challenge', async () => {
      const mine = createSoftAuthenticator();
      const theirs = createSoftAuthenticator();
      await userWithPasskey('mine-2fa@example.com', mine);
      await userWithPasskey('theirs-2fa@example.com', theirs);
      await withMfaPolicy(async () => {
        const jar = new CookieJar();
        const { page } = await challengePage(jar, 'mine-2fa@example.com');
        const options = pageOptions(page.body);
        // Another user's passkey answering this user's challenge.
        const foreign = theirs.authenticate({ ...options, allowCredentials: [] }, ORIGIN);
        const refused = await post(jar, '/u/mfa/passkey', assertionFields(page.body, foreign));
        expect(refused.statusCode).toBe(400);
        expect(refused.body).toContain('The passkey could not be verified.');
        expect(refused.headers['location']).toBeUndefined();
        // The challenge was spent by that answer: the right passkey on it is refused too.
        const late = await post(
          jar,
          '/u/mfa/passkey',
          assertionFields(page.body, mine.authenticate(options, ORIGIN)),
        );
        expect(late.statusCode).toBe(400);
        // A fresh challenge, a tampered signature.
        const again = pageOptions(refused.body);
        const tampered = mine.authenticate(again, ORIGIN, { signature: 'corrupt' });
        expect((await post(jar, '/u/mfa/passkey', assertionFields(refused.body, tampered))).statusCode).toBe(
          400,
        );
      });
    });
  });
});
