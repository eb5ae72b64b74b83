import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { CookieJar, hiddenFields } from '../../helpers/authorize.js';
import { createFactories } from '../../helpers/factories.js';
import { freePort } from '../../helpers/ports.js';

const CALLBACK = 'https://rp.example.com/callback';
const LOGOUT_URL = 'https://rp.example.com/logged-out';

// openid-client v6 finds end_session_endpoint by discovery and builds the RP-Initiated Logout request.
describe.each(testBackends())('openid-client logs out through /oidc/logout on $name', (backend) => {
  let t: TestApp;
  let issuer: string;
  let client: Client;
  beforeAll(async () => {
    // 5650-5699, one half per backend: apart from the other logout tests' ports, so all can run at once.
    const port = await freePort();
    issuer = `http://127.0.0.1:${String(port)}/`;
    t = await buildTestApp(backend, { issuer });
    await t.app.listen({ port, host: '127.0.0.1' });
    const make = createFactories(t.deps);
    client = await make.client({
      name: 'Relying Party',
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK], allowed_logout_urls: [LOGOUT_URL] },
    });
    await make.enableConnection(client.clientId);
    await make.user({ email: 'grace@example.com' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs in, then buildEndSessionUrl with id_token_hint ends the session and comes back with the state', async () => {
    const config = await oidc.discovery(new URL(issuer), client.clientId, client.clientSecret, undefined, {
      // Deprecated only to stand out: it exists for testing against a plain-http issuer, as here.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      execute: [oidc.allowInsecureRequests],
    });
    expect(config.serverMetadata().end_session_endpoint).toBe(`${issuer}oidc/logout`);

    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const state = oidc.randomState();
    const authorizeUrl = (extra: Record<string, string> = {}) =>
      oidc.buildAuthorizationUrl(config, {
        redirect_uri: CALLBACK,
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state,
        ...extra,
      });
    const jar = new CookieJar();
    const start = await fetch(authorizeUrl(), { redirect: 'manual' });
    jar.take(start);
    const page = await fetch(new URL(start.headers.get('location') ?? '', issuer), {
      headers: { cookie: jar.header() },
    });
    const posted = await fetch(new URL('/u/login', issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams({
        ...hiddenFields(await page.text()),
        username: 'grace@example.com',
        password: 'Pass-word-123',
      }),
    });
    jar.take(posted);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(posted.headers.get('location') ?? ''), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      idTokenExpected: true,
    });
    const idToken = tokens.id_token ?? '';

    const logoutState = oidc.randomState();
    const logout = oidc.buildEndSessionUrl(config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: LOGOUT_URL,
      state: logoutState,
    });
    const res = await fetch(logout, { redirect: 'manual', headers: { cookie: jar.header() } });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${LOGOUT_URL}?state=${logoutState}`);
    expect(res.headers.getSetCookie()).toEqual(['auth0=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);

    // The session is over even for a browser that kept the cookie.
    const silent = await fetch(authorizeUrl({ prompt: 'none' }), {
      redirect: 'manual',
      headers: { cookie: jar.header() },
    });
    expect(new URL(silent.headers.get('location') ?? '').searchParams.get('error')).toBe('login_required');
  });
});
