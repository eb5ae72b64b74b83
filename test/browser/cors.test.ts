import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildListeningTestApp, type TestApp } from '../helpers/build-test-app.js';
import { createFactories } from '../helpers/factories.js';
import { hasChromium, launchBrowser, type Browser } from '../helpers/browser.js';

interface FetchOutcome {
  readonly ok: boolean;
  readonly status?: number;
  readonly body?: Record<string, unknown>;
  readonly error?: string;
}

/** A blank page on its own origin, standing in for a single-page application's host. */
async function startPageServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>SPA</title><h1>SPA</h1></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

// Skipped with a notice from global-setup when Chromium is missing; .ci/run installs it, so CI runs this.
describe.skipIf(!hasChromium)('CORS from a single-page application in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let allowedPage: { server: Server; port: number };
  let otherPage: { server: Server; port: number };
  let clientId: string;
  let audience: string;
  let email: string;

  beforeAll(async () => {
    t = await buildListeningTestApp();
    base = t.issuer;
    allowedPage = await startPageServer();
    otherPage = await startPageServer();
    const make = createFactories(t.deps);
    audience = (await make.api({ scopes: [{ value: 'read:a' }] })).identifier;
    // The pages are served from `localhost`, the server from 127.0.0.1: different origins.
    const client = await make.client({
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['password'],
      settings: { web_origins: [`http://localhost:${allowedPage.port}`] },
    });
    clientId = client.clientId;
    await make.enableConnection(clientId);
    email = (await make.user()).email ?? '';
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser.close();
    allowedPage.server.close();
    otherPage.server.close();
    await t.close();
  });

  /** What a fetch from `pageOrigin` to /oauth/token gets, sent as auth0-spa-js sends it (a preflighted JSON POST). */
  async function tokenFetchFrom(pageOrigin: string, password: string): Promise<FetchOutcome> {
    const page = await browser.context.newPage();
    try {
      await page.goto(pageOrigin);
      return await page.evaluate(
        async ({ url, body }) => {
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers: {
                'Content-Type': 'application/json',
                'Auth0-Client': btoa(JSON.stringify({ name: 'auth0-spa-js', version: '2.0.0' })),
              },
              body: JSON.stringify(body),
            });
            return { ok: true, status: res.status, body: (await res.json()) as Record<string, unknown> };
          } catch (error) {
            return { ok: false, error: String(error) };
          }
        },
        {
          url: `${base}oauth/token`,
          body: {
            grant_type: 'password',
            client_id: clientId,
            username: email,
            password,
            audience,
            scope: 'openid',
          },
        },
      );
    } finally {
      await page.close();
    }
  }

  it("lets a page on the application's web origin exchange credentials and read the answer", async () => {
    const outcome = await tokenFetchFrom(`http://localhost:${allowedPage.port}/`, 'Pass-word-123');
    expect(outcome).toEqual({
      ok: true,
      status: 200,
      body: expect.objectContaining({ access_token: expect.any(String), token_type: 'Bearer' }),
    });
  });

  it('lets the page read an error answer too', async () => {
    const outcome = await tokenFetchFrom(`http://localhost:${allowedPage.port}/`, 'wrong-password');
    expect(outcome).toEqual({
      ok: true,
      status: 403,
      body: expect.objectContaining({ error: 'invalid_grant' }),
    });
  });

  it('blocks a page on an origin no application lists', async () => {
    const outcome = await tokenFetchFrom(`http://localhost:${otherPage.port}/`, 'Pass-word-123');
    expect(outcome).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });
  });
});
