import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form, jwtPayload } from '../../helpers/http.js';
import {
  authorize,
  CookieJar,
  hiddenFields,
  loginThroughPage,
  pkcePair,
  setCookieLine,
} from '../../helpers/authorize.js';

const PASSWORD = 'Pass-word-123';
const CALLBACK = 'https://app.example.com/callback';
const ODD_STATE = 'a b+c/d?e=f&g#h%20i\u00e9\u2713"<>\'';

describe.each(testBackends())('GET /authorize and the login page on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let web: Client;
  let spa: Client;
  let user: User;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    web = await make.client({
      name: 'Web App',
      appType: 'regular_web',
      grantTypes: ['authorization_code', 'refresh_token'],
      settings: { callbacks: [CALLBACK, 'https://app.example.com/other'] },
    });
    spa = await make.client({
      name: 'SPA',
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(web.clientId);
    await make.enableConnection(spa.clientId);
    user = await make.user({ email: 'ada@example.com', name: 'Ada' });
  });
  afterAll(async () => {
    await t.close();
  });

  const base = (c: Client = web, extra: Record<string, string> = {}) => ({
    client_id: c.clientId,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'openid profile email offline_access',
    state: 'st-1',
    nonce: 'n-0S6_WzA2Mj',
    ...extra,
  });

  const expectErrorPage = (res: Awaited<ReturnType<typeof authorize>>, text: string) => {
    expect(res.statusCode).toBe(400);
    expect(res.headers['location']).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.body).toContain('role="alert"');
    expect(res.body).toContain(text);
  };

  const redirectParams = (res: Awaited<ReturnType<typeof authorize>>) => {
    expect(res.statusCode).toBe(302);
    const location = new URL(String(res.headers['location']));
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    return Object.fromEntries(location.searchParams);
  };

  /** The whole browser leg: /authorize, the login page, the redirect back. Returns the callback's params. */
  const signIn = async (jar: CookieJar, params: Record<string, string>, who = user.email ?? '') => {
    const start = await authorize(t.app, params, jar);
    expect(start.statusCode).toBe(302);
    expect(String(start.headers['location'])).toMatch(/^\/u\/login\?state=[\w-]+$/);
    const { result } = await loginThroughPage(t.app, String(start.headers['location']), jar, {
      username: who,
      password: PASSWORD,
    });
    return { result, params: result.statusCode === 302 ? redirectParams(result) : {} };
  };

  const exchange = (c: Client, fields: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'authorization_code',
        client_id: c.clientId,
        ...(c.tokenEndpointAuthMethod === 'none' ? {} : { client_secret: c.clientSecret }),
        redirect_uri: CALLBACK,
        ...fields,
      }),
    });

  const logs = async (type: string) => {
    await t.deps.events.flush();
    const res = await api(t.app, {
      method: 'GET',
      url: `/api/v2/logs?per_page=100&q=${encodeURIComponent(`type:${type}`)}`,
      // A fresh token: tests move the clock by days.
      token: await t.managementTokenWith(['read:logs']),
    });
    return res.json<Record<string, unknown>[]>();
  };

  describe('refusals on the error page, never redirected', () => {
    it('an unknown or missing client_id', async () => {
      expectErrorPage(
        await authorize(t.app, base(web, { client_id: 'nope' }), new CookieJar()),
        'Unknown client.',
      );
      const { client_id: _omit, ...rest } = base();
      expectErrorPage(await authorize(t.app, rest, new CookieJar()), 'Missing required parameter: client_id');
    });

    it('a redirect_uri that is not exactly a callback, or a javascript: / data: URI', async () => {
      for (const uri of [
        `${CALLBACK}/`,
        `${CALLBACK}?x=1`,
        'https://evil.example/callback',
        'HTTPS://app.example.com/callback',
      ]) {
        expectErrorPage(
          await authorize(t.app, base(web, { redirect_uri: uri }), new CookieJar()),
          'Callback URL mismatch.',
        );
      }
      for (const uri of ['javascript:alert(1)', 'data:text/html,hi']) {
        expectErrorPage(
          await authorize(t.app, base(web, { redirect_uri: uri }), new CookieJar()),
          'redirect_uri scheme is not allowed',
        );
      }
    });

    it('a missing redirect_uri when the client has several callbacks, but not when it has one', async () => {
      const { redirect_uri: _omit, ...rest } = base();
      expectErrorPage(
        await authorize(t.app, rest, new CookieJar()),
        'Missing required parameter: redirect_uri',
      );
      const pkce = pkcePair();
      const { redirect_uri: _o, ...spaRest } = base(spa, {
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      });
      const res = await authorize(t.app, spaRest, new CookieJar());
      expect(res.statusCode).toBe(302);
      expect(String(res.headers['location'])).toMatch(/^\/u\/login\?state=/);
    });

    it('a repeated parameter, an oversized value and an unknown response_mode', async () => {
      const url = `/authorize?${new URLSearchParams(base()).toString()}&state=again`;
      const dup = await t.app.inject({ method: 'GET', url });
      expectErrorPage(dup, 'Duplicate parameter: state');
      expectErrorPage(
        await authorize(t.app, base(web, { state: 'x'.repeat(2049) }), new CookieJar()),
        'Invalid parameter: state is too long',
      );
      expectErrorPage(
        await authorize(t.app, base(web, { response_mode: 'jwt' }), new CookieJar()),
        'Unsupported response_mode: jwt',
      );
    });
  });

  describe('refusals at the redirect URI', () => {
    it('an unsupported response_type, with the state', async () => {
      const params = redirectParams(
        await authorize(t.app, base(web, { response_type: 'code foo', state: ODD_STATE }), new CookieJar()),
      );
      expect(params).toEqual({
        error: 'unsupported_response_type',
        error_description: 'Unsupported response type: code foo',
        state: ODD_STATE,
      });
    });

    it('a client without the authorization_code grant: unauthorized_client', async () => {
      const m2m = await make.client({ settings: { callbacks: [CALLBACK] } });
      expect(redirectParams(await authorize(t.app, base(m2m), new CookieJar()))).toEqual({
        error: 'unauthorized_client',
        error_description: "Grant type 'authorization_code' not allowed for the client.",
        state: 'st-1',
      });
    });

    it('a public client without PKCE, or with plain', async () => {
      expect(redirectParams(await authorize(t.app, base(spa), new CookieJar()))).toMatchObject({
        error: 'invalid_request',
        error_description: 'Missing required parameter: code_challenge',
      });
      const plain = 'p'.repeat(43);
      expect(
        redirectParams(
          await authorize(
            t.app,
            base(spa, { code_challenge: plain, code_challenge_method: 'plain' }),
            new CookieJar(),
          ),
        ),
      ).toMatchObject({
        error: 'invalid_request',
        error_description: 'Public clients must use code_challenge_method=S256',
      });
    });

    it("a strict third-party application, confidential or not, must use PKCE with S256 (Auth0's security controls)", async () => {
      const strict = await make.client({
        isFirstParty: false,
        appType: 'regular_web',
        grantTypes: ['authorization_code'],
        settings: { callbacks: [CALLBACK], third_party_security_mode: 'strict' },
      });
      expect(redirectParams(await authorize(t.app, base(strict), new CookieJar()))).toEqual({
        error: 'invalid_request',
        error_description: 'Missing required parameter: code_challenge',
        state: 'st-1',
      });
      const plain = await authorize(
        t.app,
        base(strict, { code_challenge: 'p'.repeat(43), code_challenge_method: 'plain' }),
        new CookieJar(),
      );
      expect(redirectParams(plain)).toMatchObject({
        error_description: 'Third-party applications must use code_challenge_method=S256',
      });
      const permissive = await make.client({
        isFirstParty: false,
        appType: 'regular_web',
        grantTypes: ['authorization_code'],
        settings: { callbacks: [CALLBACK], third_party_security_mode: 'permissive' },
      });
      const legacy = await authorize(t.app, base(permissive), new CookieJar());
      expect(String(legacy.headers['location'])).toMatch(/^\/u\/login\?/);
    });

    it('prompt=none without a session: login_required', async () => {
      expect(redirectParams(await authorize(t.app, base(web, { prompt: 'none' }), new CookieJar()))).toEqual({
        error: 'login_required',
        error_description: 'Login required',
        state: 'st-1',
      });
    });
  });

  describe('the code flow', () => {
    it('signs in on the page, sets the session cookie, and exchanges the code with PKCE', async () => {
      const jar = new CookieJar();
      const pkce = pkcePair();
      const start = await authorize(
        t.app,
        base(spa, {
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
          state: ODD_STATE,
          login_hint: 'ada@example.com',
        }),
        jar,
      );
      const page = await t.app.inject({
        method: 'GET',
        url: String(start.headers['location']),
        headers: { cookie: jar.header() },
      });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-security-policy']).toMatch(/script-src 'nonce-[^']+'/);
      expect(page.body).toContain('<label for="username">');
      expect(page.body).toContain('<label for="password">');
      expect(page.body).toContain('type="password"');
      expect(page.body).toContain('value="ada@example.com"');
      expect(page.body).toContain('Log in to Latchkey to continue to SPA.');
      expect(page.body.match(/<button/g)).toHaveLength(1);
      expect(hiddenFields(page.body)['csrf']).toMatch(/^[\w-]{32}$/);

      const { result, params } = await signIn(
        jar,
        base(spa, { code_challenge: pkce.challenge, code_challenge_method: 'S256', state: ODD_STATE }),
      );
      expect(params).toEqual({ code: expect.any(String), state: ODD_STATE });
      const cookie = setCookieLine(result, 'auth0');
      expect(cookie).toMatch(/^auth0=[\w-]{43}; Path=\/; HttpOnly; SameSite=None; Secure; Max-Age=604800$/);
      // Auth0's fallback for browsers that refuse SameSite=None: the same value, no SameSite attribute.
      const value = cookie?.slice('auth0='.length, 'auth0='.length + 43) ?? '';
      expect(setCookieLine(result, 'auth0_compat')).toBe(
        `auth0_compat=${value}; Path=/; HttpOnly; Secure; Max-Age=604800`,
      );

      const res = await exchange(spa, { code: params['code'] ?? '', code_verifier: pkce.verifier });
      expect(res.statusCode).toBe(200);
      const body = res.json<{
        id_token: string;
        access_token: string;
        refresh_token: string;
        scope: string;
      }>();
      expect(body.scope).toBe('openid profile email offline_access');
      expect(body.refresh_token).toEqual(expect.any(String));
      const id = jwtPayload(body.id_token);
      const now = Math.floor(t.clock.now() / 1000);
      expect(id).toMatchObject({
        iss: TEST_ISSUER,
        sub: user.userId,
        aud: spa.clientId,
        nonce: 'n-0S6_WzA2Mj',
        auth_time: now,
      });
      expect(id['sid']).toMatch(/^ses_/);
      expect(jwtPayload(body.access_token)).toMatchObject({ gty: 'authorization_code', azp: spa.clientId });

      expect(await logs('s')).toContainEqual(
        expect.objectContaining({ client_id: spa.clientId, user_id: user.userId }),
      );
      expect(await logs('seacft')).toContainEqual(
        expect.objectContaining({ client_id: spa.clientId, user_id: user.userId }),
      );
    });

    it('refuses a wrong or missing verifier, another client, another redirect_uri; a used code revokes its tokens', async () => {
      const pkce = pkcePair();
      const params = { code_challenge: pkce.challenge, code_challenge_method: 'S256' };
      const codeOf = async () => (await signIn(new CookieJar(), base(spa, params))).params['code'] ?? '';

      const wrong = await exchange(spa, { code: await codeOf(), code_verifier: pkcePair().verifier });
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'Failed to verify code verifier',
      });
      const missing = await exchange(spa, { code: await codeOf() });
      expect(missing.json()).toEqual({
        error: 'invalid_request',
        error_description: 'Missing required parameter: code_verifier',
      });

      const other = await exchange(web, { code: await codeOf(), code_verifier: pkce.verifier });
      expect(other.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'Invalid authorization code',
      });
      const elsewhere = await exchange(spa, {
        code: await codeOf(),
        code_verifier: pkce.verifier,
        redirect_uri: 'https://app.example.com/other',
      });
      expect(elsewhere.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'The redirect_uri does not match the one of the authorization request',
      });

      const code = await codeOf();
      const first = await exchange(spa, { code, code_verifier: pkce.verifier });
      expect(first.statusCode).toBe(200);
      const refresh = first.json<{ refresh_token: string }>().refresh_token;
      const again = await exchange(spa, { code, code_verifier: pkce.verifier });
      expect(again.statusCode).toBe(403);
      expect(again.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'Invalid authorization code',
      });
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        ...form({ grant_type: 'refresh_token', client_id: spa.clientId, refresh_token: refresh }),
      });
      expect(refreshed.statusCode).toBe(403);
      expect(refreshed.json()).toMatchObject({ error: 'invalid_grant' });
      expect(await logs('feacft')).toContainEqual(expect.objectContaining({ client_id: spa.clientId }));
    });

    it('a code replayed while its first exchange is still running: one answer, and its refresh token revoked', async () => {
      const pkce = pkcePair();
      const { params } = await signIn(
        new CookieJar(),
        base(spa, { code_challenge: pkce.challenge, code_challenge_method: 'S256' }),
      );
      const code = params['code'] ?? '';
      const answers = await Promise.all(
        [1, 2, 3].map(() => exchange(spa, { code, code_verifier: pkce.verifier })),
      );
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 403, 403]);
      const won = answers.find((a) => a.statusCode === 200);
      const refresh = won?.json<{ refresh_token: string }>().refresh_token ?? '';
      expect(refresh).not.toBe('');
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        ...form({ grant_type: 'refresh_token', client_id: spa.clientId, refresh_token: refresh }),
      });
      expect(refreshed.statusCode).toBe(403);
      expect(refreshed.json()).toMatchObject({ error: 'invalid_grant' });
    });

    it('a code is good for 60 seconds (Auth0): a later first exchange is refused', async () => {
      const pkce = pkcePair();
      const params = base(spa, { code_challenge: pkce.challenge, code_challenge_method: 'S256' });
      const late = (await signIn(new CookieJar(), params)).params['code'] ?? '';
      const inTime = (await signIn(new CookieJar(), params)).params['code'] ?? '';
      t.clock.advance(59_000);
      expect((await exchange(spa, { code: inTime, code_verifier: pkce.verifier })).statusCode).toBe(200);
      t.clock.advance(2_000);
      const refused = await exchange(spa, { code: late, code_verifier: pkce.verifier });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'Invalid authorization code',
      });
    });

    it('reuses the session: a second /authorize skips the page; prompt=login and max_age force it', async () => {
      const jar = new CookieJar();
      await signIn(jar, base());
      const again = await authorize(t.app, base(web, { state: 'two' }), jar);
      expect(redirectParams(again)).toEqual({ code: expect.any(String), state: 'two' });
      const silent = await authorize(t.app, base(web, { prompt: 'none', state: 'three' }), jar);
      expect(redirectParams(silent)).toEqual({ code: expect.any(String), state: 'three' });

      const forced = await authorize(t.app, base(web, { prompt: 'login' }), jar);
      expect(String(forced.headers['location'])).toMatch(/^\/u\/login\?/);
      t.clock.advance(120_000);
      const old = await authorize(t.app, base(web, { max_age: '60' }), jar);
      expect(String(old.headers['location'])).toMatch(/^\/u\/login\?/);
      const oldSilent = await authorize(t.app, base(web, { max_age: '60', prompt: 'none' }), jar);
      expect(redirectParams(oldSilent)).toMatchObject({ error: 'login_required' });
      const fresh = await authorize(t.app, base(web, { max_age: '600' }), jar);
      expect(redirectParams(fresh)).toMatchObject({ code: expect.any(String) });
    });

    it("reuses the session from Auth0's compat cookie when a browser dropped the SameSite=None one", async () => {
      const jar = new CookieJar();
      await signIn(jar, base());
      jar.delete('auth0');
      const again = await authorize(t.app, base(web, { prompt: 'none', state: 'compat' }), jar);
      expect(redirectParams(again)).toEqual({ code: expect.any(String), state: 'compat' });
      jar.delete('auth0_compat');
      const gone = await authorize(t.app, base(web, { prompt: 'none', state: 'none-left' }), jar);
      expect(redirectParams(gone)).toMatchObject({ error: 'login_required', state: 'none-left' });
    });

    it('does not use an expired session', async () => {
      const jar = new CookieJar();
      await signIn(jar, base());
      // Auth0's default idle lifetime: 72 hours.
      t.clock.advance(72 * 3_600_000 + 1000);
      const res = await authorize(t.app, base(web, { prompt: 'none' }), jar);
      expect(redirectParams(res)).toMatchObject({ error: 'login_required' });
    });

    it('answers by form_post: an auto-submitting form to the callback, under a nonce', async () => {
      const { result } = await signIn(
        new CookieJar(),
        base(web, { response_mode: 'form_post', state: ODD_STATE }),
      );
      expect(result.statusCode).toBe(200);
      const csp = String(result.headers['content-security-policy']);
      expect(csp).toContain("form-action 'self' https://app.example.com");
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1] ?? '';
      expect(result.body).toContain(`<form method="post" action="${CALLBACK}">`);
      expect(result.body).toContain(`<script nonce="${nonce}">document.forms[0].submit();</script>`);
      expect(hiddenFields(result.body)).toEqual({ code: expect.any(String), state: ODD_STATE });
    });
  });

  describe('the login page', () => {
    it('refuses a missing or wrong CSRF token, or a form from another browser', async () => {
      const cases: [
        string,
        (f: Record<string, string>) => Record<string, string>,
        (jar: CookieJar) => void,
      ][] = [
        ['missing', ({ csrf: _c, ...f }) => f, () => undefined],
        ['wrong', (f) => ({ ...f, csrf: 'x'.repeat(32) }), () => undefined],
        [
          'other browser',
          (f) => f,
          (jar) => {
            for (const name of jar
              .header()
              .split('; ')
              .map((p) => p.split('=')[0] ?? ''))
              jar.delete(name);
          },
        ],
      ];
      for (const [, tamper, forget] of cases) {
        const jar = new CookieJar();
        const start = await authorize(t.app, base(), jar);
        const page = await t.app.inject({
          method: 'GET',
          url: String(start.headers['location']),
          headers: { cookie: jar.header() },
        });
        forget(jar);
        const fields = tamper({
          ...hiddenFields(page.body),
          username: 'ada@example.com',
          password: PASSWORD,
        });
        const res = await t.app.inject({
          method: 'POST',
          url: '/u/login',
          payload: new URLSearchParams(fields).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
        });
        expect(res.statusCode).toBe(403);
        expect(res.headers['location']).toBeUndefined();
        expect(setCookieLine(res, 'auth0')).toBeUndefined();
        expect(res.body).toContain('This form could not be verified.');
      }
    });

    it('shows a wrong password in role=alert with the form still there, and logs fp and fu', async () => {
      const jar = new CookieJar();
      const start = await authorize(t.app, base(), jar);
      const { result } = await loginThroughPage(t.app, String(start.headers['location']), jar, {
        username: 'ada@example.com',
        password: 'wrong-password',
      });
      expect(result.statusCode).toBe(400);
      expect(result.body).toMatch(
        /<div class="alert" role="alert" id="login-error">Wrong email or password.<\/div>/,
      );
      expect(result.body).toContain('<form method="post"');
      expect(result.body).toContain('value="ada@example.com"');
      // The transaction survives the failure: the next attempt on the same page signs in.
      const fields = { ...hiddenFields(result.body), username: 'ada@example.com', password: PASSWORD };
      const retry = await t.app.inject({
        method: 'POST',
        url: '/u/login',
        payload: new URLSearchParams(fields).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      });
      expect(redirectParams(retry)).toMatchObject({ code: expect.any(String) });

      const unknown = new CookieJar();
      const s2 = await authorize(t.app, base(), unknown);
      await loginThroughPage(t.app, String(s2.headers['location']), unknown, {
        username: 'nobody@example.com',
        password: 'x',
      });
      expect(await logs('fp')).toContainEqual(
        expect.objectContaining({ user_id: user.userId, client_id: web.clientId }),
      );
      expect(await logs('fu')).toContainEqual(expect.objectContaining({ user_name: 'nobody@example.com' }));
    });

    it('signs in only through the connection the request names', async () => {
      const jar = new CookieJar();
      const start = await authorize(t.app, base(web, { connection: 'no-such-connection' }), jar);
      const { result } = await loginThroughPage(t.app, String(start.headers['location']), jar, {
        username: 'ada@example.com',
        password: PASSWORD,
      });
      expect(result.statusCode).toBe(400);
      expect(result.body).toContain(
        '<div class="alert" role="alert" id="login-error">This application cannot sign you in with this connection.</div>',
      );
      expect(setCookieLine(result, 'auth0')).toBeUndefined();
      expect(await logs('f')).toContainEqual(
        expect.objectContaining({ client_id: web.clientId, connection: 'no-such-connection' }),
      );
    });

    it('completes a transaction once: of two tabs posting it at the same moment, one signs in', async () => {
      const jar = new CookieJar();
      const start = await authorize(t.app, base(), jar);
      // Two renders of the page, as two tabs would show it: reading it uses nothing up.
      const location = String(start.headers['location']);
      const pages = await Promise.all(
        [1, 2].map(() => t.app.inject({ method: 'GET', url: location, headers: { cookie: jar.header() } })),
      );
      const posts = await Promise.all(
        pages.map((page) =>
          t.app.inject({
            method: 'POST',
            url: '/u/login',
            payload: new URLSearchParams({
              ...hiddenFields(page.body),
              username: 'ada@example.com',
              password: PASSWORD,
            }).toString(),
            headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
          }),
        ),
      );
      expect(posts.map((p) => p.statusCode).sort()).toEqual([302, 400]);
      const lost = posts.find((p) => p.statusCode === 400);
      expect(lost?.body).toContain('Your sign-in took too long or was already completed.');
      const won = posts.find((p) => p.statusCode === 302);
      expect(won && redirectParams(won)).toMatchObject({ code: expect.any(String), state: 'st-1' });
    });

    it('an unknown or finished transaction: the error page', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/u/login?state=nope' });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('Your sign-in took too long or was already completed.');
    });
  });

  describe('the access policy', () => {
    it('a denied API: access_denied at the redirect URI', async () => {
      const denied = await make.api({ userPolicy: 'deny_all' });
      const { params } = await signIn(new CookieJar(), base(web, { audience: denied.identifier }));
      expect(params).toEqual({
        error: 'access_denied',
        error_description: `User access to "${denied.identifier}" is denied by the API's access policy.`,
        state: 'st-1',
      });
    });

    it('a third-party application is sent to the consent page (test/http/oauth/consent.test.ts)', async () => {
      const third = await make.client({
        isFirstParty: false,
        appType: 'regular_web',
        grantTypes: ['authorization_code'],
        settings: { callbacks: [CALLBACK] },
      });
      await make.enableConnection(third.clientId);
      const jar = new CookieJar();
      const start = await authorize(t.app, base(third), jar);
      const { result } = await loginThroughPage(t.app, String(start.headers['location']), jar, {
        username: user.email ?? '',
        password: PASSWORD,
      });
      expect(result.statusCode).toBe(302);
      expect(String(result.headers['location'])).toMatch(/^\/u\/consent\?state=[\w-]+$/);
      expect(redirectParams(await authorize(t.app, base(third, { prompt: 'none' }), jar))).toEqual({
        error: 'consent_required',
        error_description: 'Consent required',
        state: 'st-1',
      });
    });
  });
});
