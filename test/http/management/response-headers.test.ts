import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

// Issue 9: Management answers carry client secrets and user data; 401s say how to authenticate (RFC 6750 §3).
describe.each(testBackends())('Management API response headers on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('never lets an answer holding a client secret be cached or sniffed', async () => {
    const token = await t.managementToken();
    const created = await api(t.app, {
      method: 'POST',
      url: '/api/v2/clients',
      token,
      body: { name: 'Secret holder', app_type: 'non_interactive' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toHaveProperty('client_secret');
    for (const res of [created, await api(t.app, { method: 'GET', url: '/api/v2/clients', token })]) {
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('marks errors too: an unknown route, a validation error, a missing scope', async () => {
    const token = await t.managementTokenWith(['read:clients']);
    for (const res of [
      await api(t.app, { method: 'GET', url: '/api/v2/nothing-here', token }),
      await api(t.app, { method: 'GET', url: '/api/v2/clients?per_page=5000', token }),
      await api(t.app, { method: 'GET', url: '/api/v2/users', token }),
    ]) {
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers 401 with a Bearer challenge: bare without credentials, invalid_token for a bad token', async () => {
    const missing = await t.app.inject({ method: 'GET', url: '/api/v2/clients' });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(missing.headers['cache-control']).toBe('no-store');
    expect(missing.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Missing authentication',
      errorCode: 'invalid_token',
    });

    const forged = `${(await t.managementToken()).slice(0, -4)}AAAA`;
    const bad = await t.app.inject({
      method: 'GET',
      url: '/api/v2/clients',
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="Invalid token"',
    );

    const malformed = await t.app.inject({
      method: 'GET',
      url: '/api/v2/clients',
      headers: { authorization: 'Bearer not-a-jwt' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
  });
});
