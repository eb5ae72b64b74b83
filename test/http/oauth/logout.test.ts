import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form, jwtHeader, jwtPayload } from '../../helpers/http.js';
import {
  authorize,
  CookieJar,
  hiddenFields,
  loginThroughPage,
  setCookieLine,
} from '../../helpers/authorize.js';
import type { LightMyRequestResponse } from 'fastify';

const PASSWORD = 'Pass-word-123';
const CALLBACK = 'https://app.example.com/callback';
const LOGOUT_URL = 'https://app.example.com/signed-out';
const ODD_STATE = 'a b+c/d?e=f&g#h%20i\u00e9\u2713"<>\'';

describe.each(testBackends())('logout: /v2/logout and /oidc/logout on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let web: Client;
  let other: Client;
  let user: User;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    web = await make.client({
      name: 'Web App',
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: {
        callbacks: [CALLBACK],
        allowed_logout_urls: [LOGOUT_URL, 'https://*.example.org/bye', 'com.example.app://logout'],
      },
    });
    other = await make.client({
      name: 'Other App',
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK], allowed_logout_urls: ['https://other.example.com/'] },
    });
    await make.enableConnection(web.clientId);
    await make.enableConnection(other.clientId);
    user = await make.user({ email: 'ada@example.com', name: 'Ada' });
    const res = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token: await t.managementToken(),
      body: { allowed_logout_urls: ['https://tenant.example.com/home'] },
    });
    expect(res.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t.close();
  });

  const base = (c: Client = web, extra: Record<string, string> = {}) => ({
    client_id: c.clientId,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'openid profile',
    state: 'st-1',
    nonce: 'n-1',
    ...extra,
  });

  /** Signs in through the login page; returns the code's tokens (the ID token carries the sid). */
  const signIn = async (jar: CookieJar, c: Client = web) => {
    const start = await authorize(t.app, base(c), jar);
    expect(String(start.headers['location'])).toMatch(/^\/u\/login\?/);
    const { result } = await loginThroughPage(t.app, String(start.headers['location']), jar, {
      username: user.email ?? '',
      password: PASSWORD,
    });
    expect(result.statusCode).toBe(302);
    const code = new URL(String(result.headers['location'])).searchParams.get('code') ?? '';
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'authorization_code',
        client_id: c.clientId,
        client_secret: c.clientSecret,
        redirect_uri: CALLBACK,
        code,
      }),
    });
    expect(res.statusCode).toBe(200);
    const idToken = res.json<{ id_token: string }>().id_token;
    return { idToken, sid: String(jwtPayload(idToken)['sid']) };
  };

  const get = async (url: string, jar: CookieJar) => {
    const res = await t.app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
    jar.take(res);
    return res;
  };
  const v2 = (params: Record<string, string>, jar: CookieJar) =>
    get(`/v2/logout?${new URLSearchParams(params).toString()}`, jar);
  const oidc = (params: Record<string, string>, jar: CookieJar) =>
    get(`/oidc/logout?${new URLSearchParams(params).toString()}`, jar);

  /** Whether the jar's session still skips the login page. */
  const stillSignedIn = async (jar: CookieJar) => {
    const res = await authorize(t.app, base(web, { prompt: 'none' }), jar);
    return new URL(String(res.headers['location'])).searchParams.has('code');
  };

  const expectRefused = (res: LightMyRequestResponse, text: string) => {
    expect(res.statusCode).toBe(400);
    expect(res.headers['location']).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.body).toContain('role="alert"');
    expect(res.body).toContain(text);
    expect(res.body).not.toContain('<form');
  };

  const logs = async (type: string) => {
    await t.deps.events.flush();
    const res = await api(t.app, {
      method: 'GET',
      url: `/api/v2/logs?per_page=100&q=${encodeURIComponent(`type:${type}`)}`,
      token: await t.managementTokenWith(['read:logs']),
    });
    return res.json<Record<string, unknown>[]>();
  };

  describe('GET /v2/logout', () => {
    it('ends the session, clears the cookie as it was set, and shows the signed-out page', async () => {
      const jar = new CookieJar();
      const { sid } = await signIn(jar);
      expect(await stillSignedIn(jar)).toBe(true);
      const cookie = jar.get('auth0');

      const res = await v2({}, jar);
      expect(res.statusCode).toBe(200);
      expect(res.headers['location']).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      expect(setCookieLine(res, 'auth0')).toBe('auth0=; Path=/; HttpOnly; SameSite=None; Secure; Max-Age=0');
      expect(setCookieLine(res, 'auth0_compat')).toBe('auth0_compat=; Path=/; HttpOnly; Secure; Max-Age=0');
      expect(res.body).toContain('You are signed out');
      expect(res.body).toContain('role="status"');

      // Even a browser that kept the cookie is signed out: the session row is revoked.
      const kept = new CookieJar();
      kept.take({ headers: { 'set-cookie': `auth0=${cookie ?? ''}; Path=/` } } as never);
      expect(await stillSignedIn(kept)).toBe(false);
      const page = await authorize(t.app, base(), kept);
      expect(String(page.headers['location'])).toMatch(/^\/u\/login\?state=/);

      expect(await logs('slo')).toContainEqual(
        expect.objectContaining({ type: 'slo', user_id: user.userId, details: { session_id: sid } }),
      );
    });

    it("follows returnTo only when it is exactly one of the client's allowed logout URLs", async () => {
      const jar = new CookieJar();
      await signIn(jar);
      for (const refused of [
        `${LOGOUT_URL}/`,
        'https://APP.example.com/signed-out',
        'https://app.example.com/Signed-out',
        `${LOGOUT_URL}?x=1`,
        'https://app.example.com.evil.com/signed-out',
        'javascript:alert(1)//https://app.example.com/signed-out',
        'https://tenant.example.com/home',
        'https://a.b.example.org/bye',
        'https://.example.org/bye',
        'https://x.example.org/bye/',
      ]) {
        const res = await v2({ client_id: web.clientId, returnTo: refused }, jar);
        expectRefused(res, 'not on the list of allowed logout URLs');
      }
      // A refused request changes nothing: still signed in.
      expect(await stillSignedIn(jar)).toBe(true);
      expect(await logs('flo')).toContainEqual(
        expect.objectContaining({ client_id: web.clientId, details: { return_to: `${LOGOUT_URL}/` } }),
      );

      const head = await t.app.inject({
        method: 'HEAD',
        url: `/v2/logout?returnTo=${encodeURIComponent(LOGOUT_URL)}&client_id=${web.clientId}`,
        headers: { cookie: jar.header() },
      });
      expect(head.statusCode).toBe(405);
      expect(await stillSignedIn(jar)).toBe(true);

      // As auth0-spa-js sends it: with its auth0Client telemetry, which is ignored.
      const res = await v2(
        {
          client_id: web.clientId,
          returnTo: LOGOUT_URL,
          federated: '',
          auth0Client: 'eyJuYW1lIjoiYXV0aDAtc3BhLWpzIn0=',
        },
        jar,
      );
      expect(res.statusCode).toBe(302);
      expect(res.headers['location']).toBe(LOGOUT_URL);
      expect(setCookieLine(res, 'auth0')).toMatch(/^auth0=; .*Max-Age=0$/);
      expect(await stillSignedIn(jar)).toBe(false);
    });

    it('accepts a *. subdomain wildcard for one label and a native-app scheme', async () => {
      for (const allowed of [
        'https://eu.example.org/bye',
        'https://eu-1.example.org/bye',
        'com.example.app://logout',
      ]) {
        const res = await v2({ client_id: web.clientId, returnTo: allowed }, new CookieJar());
        expect(res.statusCode).toBe(302);
        expect(res.headers['location']).toBe(allowed);
      }
    });

    it("uses the tenant's allowed logout URLs without client_id", async () => {
      const jar = new CookieJar();
      await signIn(jar);
      expectRefused(await v2({ returnTo: LOGOUT_URL }, jar), 'not on the list of allowed logout URLs');
      const res = await v2({ returnTo: 'https://tenant.example.com/home' }, jar);
      expect(res.statusCode).toBe(302);
      expect(res.headers['location']).toBe('https://tenant.example.com/home');
      expect(await stillSignedIn(jar)).toBe(false);
    });

    it("with client_id and no returnTo, goes to the client's first allowed logout URL (Auth0)", async () => {
      const res = await v2({ client_id: web.clientId }, new CookieJar());
      expect(res.statusCode).toBe(302);
      expect(res.headers['location']).toBe(LOGOUT_URL);
    });

    it('refuses an unknown client, a repeated or oversized parameter', async () => {
      expectRefused(await v2({ client_id: 'nope', returnTo: LOGOUT_URL }, new CookieJar()), 'Unknown client');
      expectRefused(
        await get(`/v2/logout?returnTo=${encodeURIComponent(LOGOUT_URL)}&returnTo=x`, new CookieJar()),
        'repeated, empty or oversized',
      );
      expectRefused(
        await v2({ returnTo: `https://tenant.example.com/${'a'.repeat(5000)}` }, new CookieJar()),
        'repeated, empty or oversized',
      );
    });
  });

  describe('/oidc/logout (RP-Initiated Logout 1.0)', () => {
    it('is the end_session_endpoint of the discovery document', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
      expect(res.json<Record<string, unknown>>()['end_session_endpoint']).toBe(`${TEST_ISSUER}oidc/logout`);
    });

    it('with id_token_hint: ends the session and redirects with the state byte for byte', async () => {
      const jar = new CookieJar();
      const { idToken, sid } = await signIn(jar);
      const res = await oidc(
        { id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_URL, state: ODD_STATE },
        jar,
      );
      expect(res.statusCode).toBe(302);
      const location = new URL(String(res.headers['location']));
      expect(`${location.origin}${location.pathname}`).toBe(LOGOUT_URL);
      expect(Object.fromEntries(location.searchParams)).toEqual({ state: ODD_STATE });
      expect(setCookieLine(res, 'auth0')).toMatch(/^auth0=; .*Max-Age=0$/);
      expect(await stillSignedIn(jar)).toBe(false);
      expect((await t.deps.store.sessions.findById(sid))?.revokedAt).toEqual(expect.any(Number));
      expect(await logs('slo')).toContainEqual(
        expect.objectContaining({
          client_id: web.clientId,
          details: { return_to: res.headers['location'], session_id: sid },
        }),
      );
    });

    it('accepts an expired id_token_hint, and the POST form of the request', async () => {
      const jar = new CookieJar();
      const { idToken } = await signIn(jar);
      t.clock.advance(2 * 3_600_000);
      const res = await t.app.inject({
        method: 'POST',
        url: '/oidc/logout',
        ...form({ id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_URL }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      });
      jar.take(res);
      expect(res.statusCode).toBe(302);
      expect(res.headers['location']).toBe(LOGOUT_URL);
      expect(await stillSignedIn(jar)).toBe(false);
    });

    it('a browser without the cookie (a cross-site POST on a Lax cookie): the hint names the session to end', async () => {
      const jar = new CookieJar();
      const { idToken, sid } = await signIn(jar);
      const res = await t.app.inject({
        method: 'POST',
        url: '/oidc/logout',
        ...form({ id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_URL }),
      });
      expect(res.statusCode).toBe(302);
      expect(res.headers['location']).toBe(LOGOUT_URL);
      expect((await t.deps.store.sessions.findById(sid))?.revokedAt).toEqual(expect.any(Number));
      expect(await stillSignedIn(jar)).toBe(false);
    });

    it("refuses a post_logout_redirect_uri not allowed for the token's client", async () => {
      const jar = new CookieJar();
      const { idToken } = await signIn(jar);
      expectRefused(
        await oidc({ id_token_hint: idToken, post_logout_redirect_uri: 'https://other.example.com/' }, jar),
        'not on the list of allowed logout URLs',
      );
      expectRefused(
        await oidc({ id_token_hint: idToken, post_logout_redirect_uri: `${LOGOUT_URL}/` }, jar),
        'not on the list of allowed logout URLs',
      );
      expect(await stillSignedIn(jar)).toBe(true);
    });

    it('refuses a forged id_token_hint, one of another issuer, and one for another client_id', async () => {
      const jar = new CookieJar();
      const { idToken, sid } = await signIn(jar);
      const claims = jwtPayload(idToken);
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const header = { alg: 'RS256', kid: String(jwtHeader(idToken)['kid']) };
      const forged = await new SignJWT(claims).setProtectedHeader(header).sign(privateKey);
      // Signed with the client's secret, but the client's ID tokens are RS256: no algorithm switching.
      const hmac = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(web.clientSecret));
      const otherIssuer = await t.deps.signer.sign(
        { ...claims, iss: 'https://elsewhere.example.com/' },
        { alg: 'RS256', typ: 'JWT' },
      );
      const [h, , s] = idToken.split('.');
      const tampered = `${h ?? ''}.${Buffer.from(JSON.stringify({ ...claims, sub: 'auth0|someone-else' })).toString('base64url')}.${s ?? ''}`;
      for (const bad of [forged, hmac, otherIssuer, tampered, 'not-a-jwt', `${idToken}x`]) {
        expectRefused(
          await oidc({ id_token_hint: bad, post_logout_redirect_uri: LOGOUT_URL }, jar),
          'id_token_hint is invalid',
        );
      }
      expectRefused(
        await oidc({ id_token_hint: idToken, client_id: other.clientId }, jar),
        'client_id does not match the id_token_hint',
      );
      expectRefused(
        await oidc({ id_token_hint: idToken, logout_hint: 'ses_other' }, jar),
        'does not match the session',
      );
      expect(await stillSignedIn(jar)).toBe(true);
      // The consistent request still works.
      const ok = await oidc({ id_token_hint: idToken, client_id: web.clientId, logout_hint: sid }, jar);
      expect(ok.statusCode).toBe(302);
      expect(ok.headers['location']).toBe(LOGOUT_URL);
      expect(await stillSignedIn(jar)).toBe(false);
    });

    it('verifies an HS256 id_token_hint with the client secret', async () => {
      const hs = await make.client({
        name: 'HS App',
        appType: 'regular_web',
        grantTypes: ['authorization_code'],
        settings: {
          callbacks: [CALLBACK],
          allowed_logout_urls: [LOGOUT_URL],
          jwt_configuration: { alg: 'HS256' },
        },
      });
      await make.enableConnection(hs.clientId);
      const jar = new CookieJar();
      const { idToken } = await signIn(jar, hs);
      expect(jwtHeader(idToken)['alg']).toBe('HS256');
      const claims = jwtPayload(idToken);
      const wrongSecret = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode('not-the-client-secret-not-the-client'));
      expectRefused(await oidc({ id_token_hint: wrongSecret }, jar), 'id_token_hint is invalid');
      const res = await oidc({ id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_URL }, jar);
      expect(res.statusCode).toBe(302);
      expect(res.headers['location']).toBe(LOGOUT_URL);
      expect(await stillSignedIn(jar)).toBe(false);
    });

    it('logout_hint with client_id: ends the session it names, refuses another one', async () => {
      const jar = new CookieJar();
      const { sid } = await signIn(jar);
      expectRefused(
        await oidc({ logout_hint: 'ses_not-this-one', client_id: web.clientId }, jar),
        'does not match the session',
      );
      const res = await oidc(
        { logout_hint: sid, client_id: web.clientId, post_logout_redirect_uri: LOGOUT_URL, state: 's1' },
        jar,
      );
      expect(res.statusCode).toBe(302);
      expect(res.headers['location']).toBe(`${LOGOUT_URL}?state=s1`);
      expect(await stillSignedIn(jar)).toBe(false);
    });

    it('without a hint asks the user to confirm, in a form bound to this browser', async () => {
      const jar = new CookieJar();
      await signIn(jar);
      const page = await oidc(
        { client_id: web.clientId, post_logout_redirect_uri: LOGOUT_URL, state: 'x' },
        jar,
      );
      expect(page.statusCode).toBe(200);
      expect(page.headers['set-cookie']).toBeUndefined();
      expect(page.body).toContain('Sign out?');
      expect(page.body.match(/<button/g)).toHaveLength(1);
      expect(page.headers['content-security-policy']).toContain("form-action 'self' https://app.example.com");
      expect(await stillSignedIn(jar)).toBe(true);
      const { csrf } = hiddenFields(page.body);
      expect(csrf).toMatch(/^[\w-]{32}$/);

      const post = (fields: Record<string, string>, cookies: string) =>
        t.app.inject({
          method: 'POST',
          url: '/oidc/logout/confirm',
          ...form(fields),
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies },
        });
      // Another browser with its own session cannot use this form.
      const stranger = new CookieJar();
      await signIn(stranger);
      expectRefused(await post({ csrf: csrf ?? '' }, stranger.header()), 'does not match the session');
      expect(await stillSignedIn(stranger)).toBe(true);
      // The form was used up by that attempt: a new one is needed.
      expectRefused(await post({ csrf: csrf ?? '' }, jar.header()), 'expired or was already used');
      expectRefused(await post({ csrf: 'made-up' }, jar.header()), 'expired or was already used');

      const again = await oidc(
        { client_id: web.clientId, post_logout_redirect_uri: LOGOUT_URL, state: 'x' },
        jar,
      );
      const res = await post(hiddenFields(again.body), jar.header());
      jar.take(res);
      expect(res.statusCode).toBe(302);
      expect(res.headers['location']).toBe(`${LOGOUT_URL}?state=x`);
      expect(await stillSignedIn(jar)).toBe(false);
    });

    it('without a session there is nothing to confirm: straight to the logout URL or the page', async () => {
      const res = await oidc(
        { client_id: web.clientId, post_logout_redirect_uri: LOGOUT_URL },
        new CookieJar(),
      );
      expect(res.statusCode).toBe(302);
      expect(res.headers['location']).toBe(LOGOUT_URL);
      const page = await oidc({}, new CookieJar());
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('You are signed out');
      // Without a client, the tenant's list applies.
      expectRefused(
        await oidc({ post_logout_redirect_uri: LOGOUT_URL }, new CookieJar()),
        'allowed logout URLs',
      );
    });
  });

  describe('session replacement', () => {
    it('prompt=login: the new sign-in revokes the old session, whose cookie stops working', async () => {
      const jar = new CookieJar();
      const first = await signIn(jar);
      const oldCookie = jar.get('auth0') ?? '';
      const forced = await authorize(t.app, base(web, { prompt: 'login' }), jar);
      const { result } = await loginThroughPage(t.app, String(forced.headers['location']), jar, {
        username: user.email ?? '',
        password: PASSWORD,
      });
      expect(result.statusCode).toBe(302);
      expect(jar.get('auth0')).not.toBe(oldCookie);
      expect((await t.deps.store.sessions.findById(first.sid))?.revokedAt).toEqual(expect.any(Number));
      expect(await stillSignedIn(jar)).toBe(true);
      const old = new CookieJar();
      old.take({ headers: { 'set-cookie': `auth0=${oldCookie}; Path=/` } } as never);
      expect(await stillSignedIn(old)).toBe(false);
    });

    it('max_age exceeded: the new sign-in replaces the old session too', async () => {
      const jar = new CookieJar();
      const first = await signIn(jar);
      t.clock.advance(120_000);
      const forced = await authorize(t.app, base(web, { max_age: '60' }), jar);
      expect(String(forced.headers['location'])).toMatch(/^\/u\/login\?/);
      const { result } = await loginThroughPage(t.app, String(forced.headers['location']), jar, {
        username: user.email ?? '',
        password: PASSWORD,
      });
      expect(result.statusCode).toBe(302);
      expect((await t.deps.store.sessions.findById(first.sid))?.revokedAt).toEqual(expect.any(Number));
      expect(await stillSignedIn(jar)).toBe(true);
    });
  });
});
