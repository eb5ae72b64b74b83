import type { Server } from 'node:http';
import express from 'express';
import { auth } from 'express-openid-connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { CookieJar, hiddenFields } from '../../helpers/authorize.js';
import { createFactories } from '../../helpers/factories.js';
import { freePort } from '../../helpers/ports.js';

// express-openid-connect with idpLogout: for an issuer that is not *.auth0.com it logs out through the
// discovery document's end_session_endpoint, with id_token_hint and post_logout_redirect_uri.
describe.each(testBackends())('express-openid-connect logs out through /oidc/logout on $name', (backend) => {
  let t: TestApp;
  let rp: Server;
  let issuer: string;
  let rpBase: string;
  let rpPort: number;
  beforeAll(async () => {
    // 5700-5799 for this file's two servers, one half per backend, apart from the other logout tests' ports.
    const port = await freePort();
    issuer = `http://127.0.0.1:${String(port)}/`;
    rpPort = await freePort();
    rpBase = `http://127.0.0.1:${String(rpPort)}`;
    t = await buildTestApp(backend, { issuer });
    await t.app.listen({ port, host: '127.0.0.1' });
    const make = createFactories(t.deps);
    const client = await make.client({
      name: 'Express App',
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [`${rpBase}/callback`], allowed_logout_urls: [rpBase] },
    });
    await make.enableConnection(client.clientId);
    await make.user({ email: 'express@example.com' });
    const app = express();
    app.use(
      auth({
        issuerBaseURL: issuer,
        baseURL: rpBase,
        clientID: client.clientId,
        clientSecret: client.clientSecret,
        secret: 'a-long-enough-secret-for-the-app-session-cookie',
        authRequired: false,
        idpLogout: true,
        clientAuthMethod: 'client_secret_post',
        authorizationParams: { response_type: 'code', scope: 'openid' },
      }),
    );
    app.get('/', (req, res) => {
      res.send(req.oidc.isAuthenticated() ? 'signed in' : 'signed out');
    });
    await new Promise<void>((resolve) => {
      rp = app.listen(rpPort, '127.0.0.1', () => {
        resolve();
      });
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => rp.close(resolve));
    await t.close();
  });

  it('signs in, then /logout ends the Latchkey session and comes back to the app', async () => {
    // Two jars: the browser's cookies for the application and for Latchkey (same host, other port).
    const app = new CookieJar();
    const idp = new CookieJar();
    const go = async (url: string, jar: CookieJar, init: RequestInit = {}) => {
      const res = await fetch(url, {
        redirect: 'manual',
        ...init,
        headers: { ...(init.headers as Record<string, string> | undefined), cookie: jar.header() },
      });
      jar.take(res);
      return res;
    };
    const login = await go(`${rpBase}/login`, app);
    expect(login.status).toBe(302);
    const authorize = await go(login.headers.get('location') ?? '', idp);
    const pageUrl = new URL(authorize.headers.get('location') ?? '', issuer).toString();
    const page = await go(pageUrl, idp);
    const posted = await go(new URL('/u/login', issuer).toString(), idp, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...hiddenFields(await page.text()),
        username: 'express@example.com',
        password: 'Pass-word-123',
      }),
    });
    expect(posted.status).toBe(302);
    const callback = await go(posted.headers.get('location') ?? '', app);
    expect(callback.status).toBe(302);
    expect(await (await go(`${rpBase}/`, app)).text()).toBe('signed in');

    const logout = await go(`${rpBase}/logout`, app);
    expect(logout.status).toBe(302);
    const endSession = new URL(logout.headers.get('location') ?? '');
    expect(`${endSession.origin}${endSession.pathname}`).toBe(`${issuer}oidc/logout`);
    expect(endSession.searchParams.get('id_token_hint')).toMatch(/^ey/);
    const back = await go(endSession.toString(), idp);
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe(endSession.searchParams.get('post_logout_redirect_uri'));
    expect(idp.get('auth0')).toBeUndefined();
    expect(await (await go(back.headers.get('location') ?? '', app)).text()).toBe('signed out');
  });
});
