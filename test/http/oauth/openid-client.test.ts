import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { CookieJar, hiddenFields } from '../../helpers/authorize.js';
import { createFactories } from '../../helpers/factories.js';
import { freePort } from '../../helpers/ports.js';

const PASSWORD = 'Pass-word-123';
const CALLBACK = 'https://rp.example.com/callback';

// openid-client v6 as the relying party, against a listening server whose issuer is its own http URL
// (allowInsecureRequests): the RP sees exactly what a browser-based application would.
describe.each(testBackends())('openid-client against the code flow on $name', (backend) => {
  let t: TestApp;
  let issuer: string;
  let client: Client;
  let user: User;
  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${String(port)}/`;
    t = await buildTestApp(backend, { issuer });
    await t.app.listen({ port, host: '127.0.0.1' });
    const make = createFactories(t.deps);
    client = await make.client({
      name: 'Relying Party',
      appType: 'regular_web',
      grantTypes: ['authorization_code', 'refresh_token'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(client.clientId);
    user = await make.user({ email: 'grace@example.com', name: 'Grace Hopper' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('discovers, signs in through the login page with PKCE, exchanges the code and reads userinfo', async () => {
    const config = await oidc.discovery(new URL(issuer), client.clientId, client.clientSecret, undefined, {
      // Deprecated only to stand out: it exists for testing against a plain-http issuer, as here.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      execute: [oidc.allowInsecureRequests],
    });
    const meta = config.serverMetadata();
    expect(meta.authorization_endpoint).toBe(`${issuer}authorize`);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.grant_types_supported).toContain('authorization_code');

    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    });

    // The browser, by hand: /authorize → login page → POST credentials → callback.
    const jar = new CookieJar();
    const start = await fetch(url, { redirect: 'manual' });
    expect(start.status).toBe(302);
    jar.take(start);
    const loginUrl = new URL(start.headers.get('location') ?? '', issuer);
    const page = await fetch(loginUrl, { headers: { cookie: jar.header() } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('name="username"');
    const posted = await fetch(new URL('/u/login', issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams({ ...hiddenFields(html), username: 'grace@example.com', password: PASSWORD }),
    });
    expect(posted.status).toBe(302);
    // A plain-http issuer is a development setup: the session cookie is Lax and not Secure, so it is kept.
    expect(posted.headers.getSetCookie().find((c) => c.startsWith('auth0='))).toMatch(
      /; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/,
    );
    const callback = new URL(posted.headers.get('location') ?? '');
    expect(`${callback.origin}${callback.pathname}`).toBe(CALLBACK);

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    expect(claims).toMatchObject({ iss: issuer, sub: user.userId, aud: client.clientId, nonce });
    expect(claims?.['sid']).toMatch(/^ses_/);
    expect(typeof claims?.auth_time).toBe('number');

    const info = await oidc.fetchUserInfo(config, tokens.access_token, user.userId);
    expect(info).toMatchObject({ sub: user.userId, email: 'grace@example.com', name: 'Grace Hopper' });
  });
});
