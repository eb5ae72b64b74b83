import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { api, clientCredentials } from '../../helpers/http.js';

// A low limit so a test can exhaust the window; the production default is MANAGEMENT_RATE_LIMIT.
const MANAGEMENT_RATE_LIMIT = 20;
const LIMIT = String(MANAGEMENT_RATE_LIMIT);

describe.each(testBackends())('Management API rate limits on $name (spec 0, 4.2)', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend, {}, { managementRateLimit: MANAGEMENT_RATE_LIMIT });
  });
  afterAll(async () => {
    await t.close();
  });

  /**
   * A token for a client of its own: windows are per client and, with Redis, shared by every test
   * process, so no two tests may count against the same client.
   */
  async function freshClientToken(): Promise<string> {
    const make = createFactories(t.deps);
    const client = await make.client();
    await make.grant({
      clientId: client.clientId,
      audience: MGMT_AUDIENCE,
      scope: ['read:resource_servers'],
    });
    const res = await clientCredentials(t.app, client, MGMT_AUDIENCE);
    expect(res.statusCode).toBe(200);
    return res.json<{ access_token: string }>().access_token;
  }
  const nextSecond = () => String(Math.floor(t.clock.now() / 1000) + 1);
  const rateHeaders = (headers: Record<string, unknown>) => ({
    limit: headers['x-ratelimit-limit'],
    remaining: headers['x-ratelimit-remaining'],
    reset: headers['x-ratelimit-reset'],
  });

  it('sends x-ratelimit-limit, x-ratelimit-remaining and x-ratelimit-reset in epoch seconds', async () => {
    const token = await freshClientToken();
    const res = await api(t.app, { method: 'GET', url: '/api/v2/resource-servers', token });
    expect(res.statusCode).toBe(200);
    expect(rateHeaders(res.headers)).toEqual({
      limit: LIMIT,
      remaining: String(MANAGEMENT_RATE_LIMIT - 1),
      reset: nextSecond(),
    });
  });

  it('counts every request of the window against the calling client, refused ones included', async () => {
    const token = await freshClientToken();
    const ok = await api(t.app, { method: 'GET', url: '/api/v2/resource-servers', token });
    const missing = await api(t.app, { method: 'GET', url: '/api/v2/resource-servers/rs_missing', token });
    const forbidden = await api(t.app, { method: 'GET', url: '/api/v2/clients', token });
    expect([ok.statusCode, missing.statusCode, forbidden.statusCode]).toEqual([200, 404, 403]);
    expect([ok, missing, forbidden].map((r) => rateHeaders(r.headers))).toEqual(
      [1, 2, 3].map((used) => ({
        limit: LIMIT,
        remaining: String(MANAGEMENT_RATE_LIMIT - used),
        reset: nextSecond(),
      })),
    );
  });

  it('keeps a separate window for each client', async () => {
    const first = await freshClientToken();
    const second = await freshClientToken();
    for (let i = 0; i < 3; i += 1) {
      await api(t.app, { method: 'GET', url: '/api/v2/resource-servers', token: first });
    }
    const res = await api(t.app, { method: 'GET', url: '/api/v2/resource-servers', token: second });
    expect(res.headers['x-ratelimit-remaining']).toBe(String(MANAGEMENT_RATE_LIMIT - 1));
  });

  it('starts a new window once the clock passes x-ratelimit-reset', async () => {
    const token = await freshClientToken();
    const call = () => api(t.app, { method: 'GET', url: '/api/v2/resource-servers', token });
    await call();
    const before = await call();
    expect(before.headers['x-ratelimit-remaining']).toBe(String(MANAGEMENT_RATE_LIMIT - 2));
    const reset = Number(before.headers['x-ratelimit-reset']);
    t.clock.set(reset * 1000);
    const after = await call();
    expect(after.statusCode).toBe(200);
    expect(rateHeaders(after.headers)).toEqual({
      limit: LIMIT,
      remaining: String(MANAGEMENT_RATE_LIMIT - 1),
      reset: String(reset + 1),
    });
  });

  it('answers 429 too_many_requests with retry-after once the per-client limit is exhausted, until the reset', async () => {
    const token = await freshClientToken();
    for (let i = 0; i < MANAGEMENT_RATE_LIMIT; i++) {
      expect((await api(t.app, { method: 'GET', url: '/api/v2/resource-servers', token })).statusCode).toBe(
        200,
      );
    }
    const limited = await api(t.app, { method: 'GET', url: '/api/v2/resource-servers', token });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message:
        'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.',
      errorCode: 'too_many_requests',
    });
    expect(limited.headers['retry-after']).toBe('1');
    expect(rateHeaders(limited.headers)).toEqual({ limit: LIMIT, remaining: '0', reset: nextSecond() });
    t.clock.advance(1000);
    expect((await api(t.app, { method: 'GET', url: '/api/v2/resource-servers', token })).statusCode).toBe(
      200,
    );
  });
});
