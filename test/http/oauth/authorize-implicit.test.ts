import { createHash } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { ResourceServer } from '../../../src/domain/resource-server.js';
import type { User } from '../../../src/domain/user.js';
import {
  authorize,
  CookieJar,
  hiddenFields,
  loginThroughPage,
  pkcePair,
  unescapeHtml,
} from '../../helpers/authorize.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api as apiCall, form, jwtPayload } from '../../helpers/http.js';

const PASSWORD = 'Pass-word-123';
const APP_ORIGIN = 'https://app.example.com';
const CALLBACK = `${APP_ORIGIN}/callback`;
const ELSEWHERE = 'https://elsewhere.example.net/callback';
const NONCE = 'n-0S6_WzA2Mj';
const ODD_STATE = 'a b+c/d?e=f&g#h%20i\u00e9\u2713"<>\'';

type Res = Awaited<ReturnType<typeof authorize>>;

/** OIDC Core §3.3.2.11, computed here independently of the server: left half of SHA-256, base64url. */
const halfSha256 = (value: string) =>
  createHash('sha256').update(value, 'ascii').digest().subarray(0, 16).toString('base64url');

describe.each(testBackends())('implicit and hybrid responses at /authorize on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let spa: Client;
  let codeOnly: Client;
  let api: ResourceServer;
  let user: User;
  let other: User;
  let session: CookieJar;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    spa = await make.client({
      name: 'SPA',
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['implicit', 'authorization_code', 'refresh_token'],
      settings: { callbacks: [CALLBACK, ELSEWHERE], web_origins: [APP_ORIGIN] },
    });
    codeOnly = await make.client({
      name: 'Web',
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK], web_origins: [APP_ORIGIN] },
    });
    await make.enableConnection(spa.clientId);
    await make.enableConnection(codeOnly.clientId);
    api = await make.api({ tokenLifetime: 86_400, tokenLifetimeForWeb: 600, allowOfflineAccess: true });
    user = await make.user({ email: 'ada@example.com', name: 'Ada' });
    other = await make.user({ email: 'grace@example.com' });
    // One browser signed in through the login page: the front-channel answer to the login form itself.
    session = new CookieJar();
    const start = await authorize(t.app, params({ state: ODD_STATE }), session);
    expect(String(start.headers['location'])).toMatch(/^\/u\/login\?state=/);
    const { result } = await loginThroughPage(t.app, String(start.headers['location']), session, {
      username: 'ada@example.com',
      password: PASSWORD,
    });
    const first = fragmentOf(result);
    expect(Object.keys(first).sort()).toEqual([
      'access_token',
      'expires_in',
      'id_token',
      'scope',
      'state',
      'token_type',
    ]);
    expect(first['state']).toBe(ODD_STATE);
  });
  afterAll(async () => {
    await t.close();
  });

  const params = (extra: Record<string, string> = {}, c: Client = spa) => ({
    client_id: c.clientId,
    redirect_uri: CALLBACK,
    response_type: 'id_token token',
    scope: 'openid profile email',
    state: 'st-1',
    nonce: NONCE,
    ...extra,
  });

  /** The parameters of a 302 to the callback carried in its fragment (and nothing in its query). */
  function fragmentOf(res: Res, callback = CALLBACK): Record<string, string> {
    expect(res.statusCode).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    const location = new URL(String(res.headers['location']));
    expect(`${location.origin}${location.pathname}`).toBe(callback);
    expect(location.search).toBe('');
    return Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
  }

  function queryOf(res: Res): Record<string, string> {
    expect(res.statusCode).toBe(302);
    const location = new URL(String(res.headers['location']));
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    expect(location.hash).toBe('');
    return Object.fromEntries(location.searchParams);
  }

  /** What the web_message page posts: its target origin and the response object. */
  function webMessageOf(res: Res): { origin: string; response: Record<string, string> } {
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const m = /data-origin="([^"]*)" data-response="([^"]*)"/.exec(res.body);
    expect(m).not.toBeNull();
    return {
      origin: unescapeHtml(m?.[1] ?? ''),
      response: JSON.parse(unescapeHtml(m?.[2] ?? '')) as Record<string, string>,
    };
  }

  const verify = async (idToken: string): Promise<JWTPayload> => {
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks as never), {
      issuer: TEST_ISSUER,
      audience: spa.clientId,
    });
    return payload;
  };

  const exchange = (fields: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'authorization_code',
        client_id: spa.clientId,
        redirect_uri: CALLBACK,
        ...fields,
      }),
    });

  it('answers every response type, in any word order, with exactly its parameters', async () => {
    const pkce = pkcePair();
    const withPkce = { code_challenge: pkce.challenge, code_challenge_method: 'S256' };
    const cases: [string, string[]][] = [
      ['token', ['access_token', 'expires_in', 'scope', 'state', 'token_type']],
      ['id_token', ['id_token', 'state']],
      ['id_token token', ['access_token', 'expires_in', 'id_token', 'scope', 'state', 'token_type']],
      ['token id_token', ['access_token', 'expires_in', 'id_token', 'scope', 'state', 'token_type']],
      ['code id_token', ['code', 'id_token', 'state']],
      ['id_token code', ['code', 'id_token', 'state']],
      ['code token', ['access_token', 'code', 'expires_in', 'scope', 'state', 'token_type']],
      [
        'code id_token token',
        ['access_token', 'code', 'expires_in', 'id_token', 'scope', 'state', 'token_type'],
      ],
      [
        'token code id_token',
        ['access_token', 'code', 'expires_in', 'id_token', 'scope', 'state', 'token_type'],
      ],
    ];
    for (const [type, keys] of cases) {
      const extra = type.includes('code') ? withPkce : {};
      const got = fragmentOf(await authorize(t.app, params({ response_type: type, ...extra }), session));
      expect(Object.keys(got).sort(), type).toEqual(keys);
      if (got['token_type'] !== undefined) expect(got['token_type']).toBe('Bearer');
      if (got['scope'] !== undefined) expect(got['scope']).toBe('openid profile email');
    }
    // The plain code flow keeps the query.
    const code = queryOf(await authorize(t.app, params({ response_type: 'code', ...withPkce }), session));
    expect(Object.keys(code).sort()).toEqual(['code', 'state']);
  });

  it('signs the ID token with nonce, auth_time, sid, at_hash and c_hash, verified against the JWKS', async () => {
    const pkce = pkcePair();
    const got = fragmentOf(
      await authorize(
        t.app,
        params({
          response_type: 'code id_token token',
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        }),
        session,
      ),
    );
    const id = await verify(got['id_token'] ?? '');
    expect(id).toMatchObject({
      iss: TEST_ISSUER,
      sub: user.userId,
      aud: spa.clientId,
      nonce: NONCE,
      auth_time: expect.any(Number),
      sid: expect.stringMatching(/^ses_/),
      name: 'Ada',
      email: 'ada@example.com',
      at_hash: halfSha256(got['access_token'] ?? ''),
      c_hash: halfSha256(got['code'] ?? ''),
    });

    const idOnly = fragmentOf(await authorize(t.app, params({ response_type: 'id_token' }), session));
    const bare = await verify(idOnly['id_token'] ?? '');
    expect(bare['nonce']).toBe(NONCE);
    expect(bare['at_hash']).toBeUndefined();
    expect(bare['c_hash']).toBeUndefined();
    expect(bare['sid']).toBe(id['sid']);

    // The hybrid code is exchanged later for the normal back-channel tokens.
    const res = await exchange({ code: got['code'] ?? '', code_verifier: pkce.verifier });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ id_token: string; expires_in: number }>();
    expect(body.expires_in).toBe(86_400);
    expect(jwtPayload(body.id_token)).toMatchObject({ nonce: NONCE, sid: id['sid'] });
  });

  it("gives the implicit access token the API's token_lifetime_for_web, and never a refresh token", async () => {
    const got = fragmentOf(
      await authorize(
        t.app,
        params({
          response_type: 'token',
          audience: api.identifier,
          scope: 'openid read:things offline_access',
        }),
        session,
      ),
    );
    expect(got['expires_in']).toBe('600');
    expect(got['refresh_token']).toBeUndefined();
    expect(got['scope']).toBe('openid read:things');
    const at = jwtPayload(got['access_token'] ?? '');
    expect(Number(at['exp']) - Number(at['iat'])).toBe(600);
    expect(at).toMatchObject({
      aud: [api.identifier, `${TEST_ISSUER}userinfo`],
      sub: user.userId,
      scope: 'openid read:things',
      azp: spa.clientId,
    });

    // The same API through the code flow: its token_lifetime, and the refresh token.
    const pkce = pkcePair();
    const back = queryOf(
      await authorize(
        t.app,
        params({
          response_type: 'code',
          audience: api.identifier,
          scope: 'openid read:things offline_access',
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        }),
        session,
      ),
    );
    const res = await exchange({ code: back['code'] ?? '', code_verifier: pkce.verifier });
    expect(res.json()).toMatchObject({ expires_in: 86_400, refresh_token: expect.any(String) });
  });

  describe('refusals at the redirect URI, in the fragment', () => {
    it('an ID token without a nonce', async () => {
      for (const type of ['id_token', 'id_token token', 'code id_token']) {
        const { nonce: _n, ...rest } = params({ response_type: type, state: ODD_STATE });
        const pkce = type.includes('code') ? { code_challenge: pkcePair().challenge } : {};
        expect(fragmentOf(await authorize(t.app, { ...rest, ...pkce }, session))).toEqual({
          error: 'invalid_request',
          error_description: 'Missing required parameter: nonce',
          state: ODD_STATE,
        });
      }
      // An access token alone needs none.
      const { nonce: _n, ...plain } = params({ response_type: 'token', scope: 'profile' });
      expect(fragmentOf(await authorize(t.app, plain, session))).toMatchObject({
        access_token: expect.any(String),
      });
    });

    it('a client without the implicit grant: unauthorized_client', async () => {
      for (const type of ['token', 'id_token', 'code id_token']) {
        expect(
          fragmentOf(await authorize(t.app, params({ response_type: type }, codeOnly), session)),
        ).toEqual({
          error: 'unauthorized_client',
          error_description: "Grant type 'implicit' not allowed for the client.",
          state: 'st-1',
        });
      }
    });

    it('response_mode=query for tokens: refused, and the refusal itself goes in the fragment', async () => {
      for (const type of ['token', 'id_token token', 'code id_token']) {
        const res = await authorize(t.app, params({ response_type: type, response_mode: 'query' }), session);
        expect(String(res.headers['location'])).not.toContain('access_token');
        expect(fragmentOf(res)).toEqual({
          error: 'invalid_request',
          error_description: `response_mode=query is not allowed for response_type=${type}`,
          state: 'st-1',
        });
      }
    });

    it('an unknown or repeated word: unsupported_response_type', async () => {
      for (const type of ['token token', 'code foo', 'token  id_token', 'none']) {
        expect(queryOf(await authorize(t.app, params({ response_type: type }), session))).toEqual({
          error: 'unsupported_response_type',
          error_description: `Unsupported response type: ${type}`,
          state: 'st-1',
        });
      }
    });

    it('a strict third-party application: implicit response types are unsupported', async () => {
      const third = await make.client({
        isFirstParty: false,
        appType: 'spa',
        tokenEndpointAuthMethod: 'none',
        grantTypes: ['implicit', 'authorization_code'],
        settings: { callbacks: [CALLBACK], third_party_security_mode: 'strict' },
      });
      expect(fragmentOf(await authorize(t.app, params({}, third), session))).toEqual({
        error: 'unsupported_response_type',
        error_description: 'Unsupported response type: id_token token',
        state: 'st-1',
      });
    });

    it('an API the policy denies: access_denied', async () => {
      const denied = await make.api({ userPolicy: 'deny_all' });
      expect(
        fragmentOf(
          await authorize(t.app, params({ response_type: 'token', audience: denied.identifier }), session),
        ),
      ).toEqual({
        error: 'access_denied',
        error_description: `User access to "${denied.identifier}" is denied by the API's access policy.`,
        state: 'st-1',
      });
    });

    it('prompt=none without a session: login_required in the fragment', async () => {
      expect(fragmentOf(await authorize(t.app, params({ prompt: 'none' }), new CookieJar()))).toEqual({
        error: 'login_required',
        error_description: 'Login required',
        state: 'st-1',
      });
    });
  });

  it("logs Auth0's ssa and fsa for prompt=none answers", async () => {
    const ok = await authorize(t.app, params({ prompt: 'none', state: 'silent-ok' }), session);
    expect(fragmentOf(ok)).toMatchObject({ access_token: expect.any(String) });
    await authorize(t.app, params({ prompt: 'none', state: 'silent-no' }), new CookieJar());
    const denied = await make.api({ userPolicy: 'deny_all' });
    await authorize(t.app, params({ prompt: 'none', audience: denied.identifier }), session);
    await t.deps.events.flush();
    const logs = async (type: string) =>
      (
        await apiCall(t.app, {
          method: 'GET',
          url: `/api/v2/logs?per_page=100&q=${encodeURIComponent(`type:${type}`)}`,
          token: await t.managementTokenWith(['read:logs']),
        })
      ).json<Record<string, unknown>[]>();
    expect(await logs('ssa')).toContainEqual(
      expect.objectContaining({
        type: 'ssa',
        client_id: spa.clientId,
        client_name: 'SPA',
        user_id: user.userId,
        user_name: 'ada@example.com',
        scope: 'openid profile email',
      }),
    );
    const failed = await logs('fsa');
    expect(failed).toContainEqual(
      expect.objectContaining({
        type: 'fsa',
        client_id: spa.clientId,
        description: 'Login required',
        details: { error: 'login_required' },
      }),
    );
    expect(failed).toContainEqual(
      expect.objectContaining({
        type: 'fsa',
        user_id: user.userId,
        audience: denied.identifier,
        details: { error: 'access_denied' },
      }),
    );
  });

  it('a code may be asked for in the fragment too', async () => {
    const pkce = pkcePair();
    const got = fragmentOf(
      await authorize(
        t.app,
        params({
          response_type: 'code',
          response_mode: 'fragment',
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        }),
        session,
      ),
    );
    expect(Object.keys(got).sort()).toEqual(['code', 'state']);
  });

  it('answers tokens by form_post too', async () => {
    const res = await authorize(t.app, params({ response_mode: 'form_post', state: ODD_STATE }), session);
    expect(res.statusCode).toBe(200);
    expect(Object.keys(hiddenFields(res.body)).sort()).toEqual([
      'access_token',
      'expires_in',
      'id_token',
      'scope',
      'state',
      'token_type',
    ]);
    expect(hiddenFields(res.body)['state']).toBe(ODD_STATE);
  });

  describe('response_mode=web_message', () => {
    it('posts the code to the web origin, framed by that origin only, the state byte for byte', async () => {
      const pkce = pkcePair();
      const res = await authorize(
        t.app,
        params({
          response_type: 'code',
          response_mode: 'web_message',
          prompt: 'none',
          state: ODD_STATE,
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        }),
        session,
      );
      const { origin, response } = webMessageOf(res);
      expect(origin).toBe(APP_ORIGIN);
      expect(response).toEqual({ code: expect.any(String), state: ODD_STATE });
      const csp = String(res.headers['content-security-policy']);
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1] ?? '';
      expect(csp).toBe(
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self' data:; ` +
          `base-uri 'none'; form-action 'self'; frame-ancestors ${APP_ORIGIN}`,
      );
      expect(res.headers['x-frame-options']).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toContain(`<script nonce="${nonce}">`);
      expect(res.body).toContain("type: 'authorization_response'");
      // The code it carries is a normal one.
      const tokens = await exchange({ code: response['code'] ?? '', code_verifier: pkce.verifier });
      expect(tokens.statusCode).toBe(200);

      // Tokens the same way (the implicit flavour of silent authentication).
      const implicit = webMessageOf(
        await authorize(t.app, params({ response_mode: 'web_message', prompt: 'none' }), session),
      );
      expect(Object.keys(implicit.response).sort()).toEqual([
        'access_token',
        'expires_in',
        'id_token',
        'scope',
        'state',
        'token_type',
      ]);
    });

    it("the popup's login page keeps its opener (no COOP); other login pages keep COOP same-origin", async () => {
      const coop = async (extra: Record<string, string>) => {
        const jar = new CookieJar();
        const start = await authorize(t.app, params(extra), jar);
        const page = await t.app.inject({
          method: 'GET',
          url: String(start.headers['location']),
          headers: { cookie: jar.header() },
        });
        expect(page.statusCode).toBe(200);
        expect(page.headers['x-frame-options']).toBe('DENY');
        expect(String(page.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
        return page.headers['cross-origin-opener-policy'];
      };
      expect(await coop({ response_mode: 'web_message' })).toBeUndefined();
      expect(await coop({})).toBe('same-origin');
    });

    it('without a session: login_required, posted the same way', async () => {
      const res = await authorize(
        t.app,
        params({ response_type: 'token', response_mode: 'web_message', prompt: 'none', state: ODD_STATE }),
        new CookieJar(),
      );
      expect(webMessageOf(res)).toEqual({
        origin: APP_ORIGIN,
        response: { error: 'login_required', error_description: 'Login required', state: ODD_STATE },
      });
      expect(String(res.headers['content-security-policy'])).toMatch(
        /frame-ancestors https:\/\/app\.example\.com$/,
      );
    });

    it('refused on an error page for a redirect URI outside the web origins: never posted', async () => {
      const res = await authorize(
        t.app,
        params({ response_mode: 'web_message', prompt: 'none', redirect_uri: ELSEWHERE }),
        session,
      );
      expect(res.statusCode).toBe(400);
      expect(res.headers['location']).toBeUndefined();
      expect(res.body).toContain(
        'The redirect_uri origin https://elsewhere.example.net is not in the list of allowed web origins.',
      );
      expect(res.body).not.toContain('postMessage');
      expect(res.body).not.toContain('access_token');
      expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      // The same redirect URI is fine in the fragment.
      expect(
        fragmentOf(await authorize(t.app, params({ redirect_uri: ELSEWHERE }), session), ELSEWHERE),
      ).toMatchObject({ access_token: expect.any(String) });
    });
  });

  it('seed 003: an implicit Management API token acts on its own user only, with current-user scopes', async () => {
    // The request of seed 003, word for word: `token id_token`, the Management API, API scopes only.
    const got = fragmentOf(
      await authorize(
        t.app,
        params({
          response_type: 'token id_token',
          audience: MGMT_AUDIENCE,
          scope: 'read:current_user update:current_user_metadata read:users update:users',
        }),
        session,
      ),
    );
    expect(got['scope']).toBe('read:current_user update:current_user_metadata');
    const token = got['access_token'] ?? '';
    const claims = jwtPayload(token);
    expect(claims).toMatchObject({
      iss: TEST_ISSUER,
      sub: user.userId,
      aud: MGMT_AUDIENCE,
      azp: spa.clientId,
      scope: 'read:current_user update:current_user_metadata',
    });
    const id = await verify(got['id_token'] ?? '');
    expect(id).toMatchObject({ sub: user.userId, nonce: NONCE, at_hash: halfSha256(token) });

    const own = `/api/v2/users/${encodeURIComponent(user.userId)}`;
    expect((await apiCall(t.app, { method: 'GET', url: own, token })).json()).toMatchObject({
      user_id: user.userId,
      email: 'ada@example.com',
    });
    const patched = await apiCall(t.app, {
      method: 'PATCH',
      url: own,
      token,
      body: { user_metadata: { theme: 'dark' } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ user_metadata: { theme: 'dark' } });
    const theirs = `/api/v2/users/${encodeURIComponent(other.userId)}`;
    const read = await apiCall(t.app, { method: 'GET', url: theirs, token });
    expect(read.statusCode).toBe(403);
    expect(read.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'User to be acted on does not match subject in bearer token.',
      errorCode: 'insufficient_scope',
    });
    const write = await apiCall(t.app, {
      method: 'PATCH',
      url: theirs,
      token,
      body: { user_metadata: { theme: 'dark' } },
    });
    expect(write.statusCode).toBe(403);
    expect((await apiCall(t.app, { method: 'GET', url: '/api/v2/users', token })).statusCode).toBe(403);

    // With openid the token also names /userinfo, and the Management API takes one audience only (seed 003).
    const both = fragmentOf(
      await authorize(t.app, params({ audience: MGMT_AUDIENCE, scope: 'openid read:current_user' }), session),
    );
    const refused = await apiCall(t.app, { method: 'GET', url: own, token: both['access_token'] ?? '' });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({
      message: `Bad audience: ${MGMT_AUDIENCE} ${TEST_ISSUER}userinfo`,
    });
  });
});
