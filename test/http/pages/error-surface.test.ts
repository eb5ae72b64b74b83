import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { aloneOnTheDatabase } from '../../../src/storage/migrate.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { authorize, CookieJar } from '../../helpers/authorize.js';

const CALLBACK = 'https://app.example.com/callback';

describe.each(testBackends())('errors under /u answer the HTML error page on $name', (backend) => {
  let t: TestApp;
  let clientId: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    const make = createFactories(t.deps);
    const client = await make.client({
      appType: 'regular_web',
      grantTypes: ['authorization_code'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(client.clientId);
    clientId = client.clientId;
  });
  afterAll(async () => {
    await t.close();
  });

  /** The error page: HTML with the page CSP, the sentence in role=alert, no form, no redirect, no stack. */
  const expectErrorPage = (res: LightMyRequestResponse, status: number, sentence: string) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'nonce-/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['location']).toBeUndefined();
    expect(res.body).toContain('<h1 id="error-title">Something went wrong</h1>');
    expect(res.body).toContain(`<p class="lede" role="alert">${sentence}</p>`);
    expect(res.body).not.toContain('<form');
    expect(res.body).not.toMatch(/at .*\.ts:\d+|Error:/);
  };

  it('answers an unknown /u path with a 404 page, and a wrong method with a 405 page', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const res = await t.app.inject({ method, url: '/u/no-such-page?state=x' });
      expectErrorPage(
        res,
        404,
        'This page does not exist. Check the address, or go back to the application.',
      );
    }
    expectErrorPage(
      await t.app.inject({ method: 'GET', url: '/u' }),
      404,
      'This page does not exist. Check the address, or go back to the application.',
    );
    // A page that answers other methods: 405 with Allow, still the page.
    const put = await t.app.inject({ method: 'PUT', url: '/u/login' });
    expectErrorPage(
      put,
      405,
      'This request could not be handled. Go back to the application and start again.',
    );
    expect(put.headers['allow']).toBe('GET, POST');
  });

  it('answers a body the page cannot read with a 4xx page, not OAuth JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/u/login',
      payload: '{"state":',
      headers: { 'content-type': 'application/json' },
    });
    expectErrorPage(
      res,
      400,
      'This request could not be handled. Go back to the application and start again.',
    );
  });

  it('answers a failure of storage with a 500 page that says nothing of its cause', async () => {
    const jar = new CookieJar();
    const start = await authorize(
      t.app,
      { client_id: clientId, redirect_uri: CALLBACK, response_type: 'code', state: 's' },
      jar,
    );
    const { db } = t.deps.storage;
    // The login page reads the connection to offer sign-up: its table has gone (renamed under the migrations'
    // lock, so another test file's migration never sees it half-gone).
    await aloneOnTheDatabase(t.deps.storage, async () => {
      await sql`alter table connections rename to connections_gone`.execute(db);
      try {
        const res = await t.app.inject({
          method: 'GET',
          url: String(start.headers['location']),
          headers: { cookie: jar.header() },
        });
        expectErrorPage(res, 500, 'An unexpected error happened on our side. Try again in a moment.');
        expect(res.body).not.toContain('connections');
      } finally {
        await sql`alter table connections_gone rename to connections`.execute(db);
      }
    });
  });

  it('leaves the OAuth and Management surfaces in JSON', async () => {
    const oauth = await t.app.inject({ method: 'GET', url: '/oauth/no-such-endpoint' });
    expect(oauth.statusCode).toBe(404);
    expect(oauth.json()).toEqual({ error: 'invalid_request', error_description: 'Not Found' });
    const userish = await t.app.inject({ method: 'GET', url: '/users/no-such' });
    expect(userish.json()).toEqual({ error: 'invalid_request', error_description: 'Not Found' });
    const management = await t.app.inject({ method: 'GET', url: '/api/v2/no-such' });
    expect(management.statusCode).toBe(401);
    expect(management.headers['content-type']).toMatch(/^application\/json/);
  });
});
