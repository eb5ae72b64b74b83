import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';

// Outside /api/v2 every error, the router's included, is an RFC 6749 §5.2 body.
describe.each(testBackends())('unknown routes and malformed URLs outside /api/v2 on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['GET', '/oauth/token', 'POST'],
    ['GET', '/oauth/revoke/', 'POST'],
    ['POST', '/userinfo', 'GET'],
    ['DELETE', '/.well-known/jwks.json', 'GET'],
  ] as const)('answers %s %s with 405 and Allow: %s (RFC 9110 §15.5.6)', async (method, url, allow) => {
    const res = await t.app.inject({ method, url });
    expect(res.statusCode).toBe(405);
    expect(res.headers['allow']).toBe(allow);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      error: 'invalid_request',
      error_description: `Method not allowed; use ${allow}`,
    });
  });

  it.each(['/nothing-here', '/oauth/nothing', '/api/v2x'])('answers GET %s with 404', async (url) => {
    const res = await t.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'Not Found' });
  });

  it.each(['/.well-known/%ZZ', '/oauth/%C0%80', '/nothing/%'])(
    'answers the malformed path %s with 400 invalid_request',
    async (url) => {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'invalid_request',
        error_description: 'The URL is not valid percent-encoded UTF-8',
      });
    },
  );

  it('answers unknown My Account paths in its problem+json shape', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/me/v1/authentication-methods?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.json()).toEqual({
      type: 'https://auth0.com/api-errors/A0E-404-0001',
      status: 404,
      title: 'Not Found',
      detail: 'The requested resource POST /me/v1/authentication-methods was not found.',
    });
  });

  it('answers a malformed My Account path in its problem+json shape', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/me/v1/%ZZ' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      type: 'https://auth0.com/api-errors/A0E-400-0001',
      status: 400,
      title: 'Bad Request',
      detail: 'Path validation error: the URL is not valid percent-encoded UTF-8.',
    });
  });
});
