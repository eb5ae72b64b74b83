import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const CSP =
  /^default-src 'none'; script-src 'nonce-([A-Za-z0-9+/]{24})'; style-src 'nonce-\1'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'$/;
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

describe.each(testBackends())('the page at the root URL on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  const home = (accept?: string) =>
    t.app.inject({ method: 'GET', url: '/', headers: accept === undefined ? {} : { accept } });

  it('serves a page naming the product, its version and the issuer, with links to the published documents', async () => {
    const res = await home('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      vary: 'accept',
    });
    expect(res.body).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(res.body).toContain(`<title>Latchkey · ${TEST_ISSUER}</title>`);
    expect(res.body).toContain(`<span class="pill">Version ${VERSION}</span>`);
    expect(res.body).toContain(`<code>${TEST_ISSUER}</code>`);
    const links = [...res.body.matchAll(/<a class="card" href="([^"]+)">/g)].map((m) => m[1]);
    expect(links).toEqual([
      `${TEST_ISSUER}.well-known/openid-configuration`,
      `${TEST_ISSUER}.well-known/jwks.json`,
      `${TEST_ISSUER}openapi.json`,
    ]);
    const endpoints = [...res.body.matchAll(/<th scope="row">([^<]+)<\/th><td><code>([^<]+)<\/code>/g)].map(
      (m) => [m[1], m[2]],
    );
    expect(endpoints).toEqual([
      ['Userinfo', `${TEST_ISSUER}userinfo`],
      ['Revocation', `${TEST_ISSUER}oauth/revoke`],
      ['Token', `${TEST_ISSUER}oauth/token`],
      ['Authorization', `${TEST_ISSUER}authorize`],
      ['End session', `${TEST_ISSUER}oidc/logout`],
      ['Management API', `${TEST_ISSUER}api/v2/`],
    ]);
  });

  it('allows only its own nonce-bearing styles and no script, in no frame, under a fresh nonce each time', async () => {
    const [first, second] = [await home('text/html'), await home('text/html')];
    const nonce = CSP.exec(String(first.headers['content-security-policy']))?.[1];
    expect(nonce).toBeDefined();
    expect(CSP.exec(String(second.headers['content-security-policy']))?.[1]).not.toBe(nonce);
    expect(first.body.match(/<style\b[^>]*>/g)).toEqual([`<style nonce="${nonce}">`]);
    expect(first.body).not.toMatch(/<script\b|\sstyle="|\son[a-z]+=/i);
    expect(first.body).not.toMatch(/(src|href)="https?:\/\/(?!latchkey\.test\/)/);
  });

  it('answers JSON to Accept: application/json', async () => {
    const res = await home('application/json');
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      ...SECURITY_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache',
      vary: 'accept',
    });
    expect(res.json()).toEqual({
      name: 'Latchkey',
      version: VERSION,
      issuer: TEST_ISSUER,
      openid_configuration: `${TEST_ISSUER}.well-known/openid-configuration`,
      jwks_uri: `${TEST_ISSUER}.well-known/jwks.json`,
      openapi: `${TEST_ISSUER}openapi.json`,
    });
  });

  it.each([
    [undefined, 'text/html'],
    ['*/*', 'text/html'],
    ['application/*', 'application/json'],
    ['text/html;q=0.5, application/json', 'application/json'],
    ['application/json;q=0.4, text/*;q=0.5', 'text/html'],
    ['application/json;q=0, */*', 'text/html'],
    ['application/json, text/html', 'text/html'],
    ['nonsense', 'text/html'],
  ])('answers Accept: %s with %s (RFC 9110 §12.5.1; ties go to the page)', async (accept, type) => {
    const res = await home(accept);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(`${type}; charset=utf-8`);
  });

  it('answers HEAD with the same headers and no body', async () => {
    for (const accept of ['text/html', 'application/json']) {
      const get = await home(accept);
      const head = await t.app.inject({ method: 'HEAD', url: '/', headers: { accept } });
      expect(head.statusCode).toBe(200);
      expect(head.body).toBe('');
      const { date: _d, 'content-security-policy': getCsp, ...getHeaders } = get.headers;
      const { date: _h, 'content-security-policy': headCsp, ...headHeaders } = head.headers;
      expect(headHeaders).toEqual(getHeaders);
      expect(typeof headCsp).toBe(typeof getCsp);
    }
  });

  it('escapes what it prints', async () => {
    const odd = await buildTestApp(backend, { issuer: 'https://latchkey.test/"><script>alert(1)</script>/' });
    try {
      const res = await odd.app.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain('<script>');
      expect(res.body).toContain(
        '<code>https://latchkey.test/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;/</code>',
      );
    } finally {
      await odd.close();
    }
  });
});
