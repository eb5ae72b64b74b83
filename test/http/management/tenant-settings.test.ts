import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

describe.each(testBackends())('/api/v2/tenants/settings on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  it('reads the bootstrap settings', async () => {
    const res = await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings', token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      friendly_name: 'Latchkey',
      default_directory: 'Username-Password-Authentication',
      default_audience: '',
      session_lifetime: 168,
      idle_session_lifetime: 72,
      enabled_locales: ['en'],
      flags: {},
    });
  });

  it('patches settings, merges flags one level and removes keys set to null', async () => {
    const res = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token,
      body: {
        friendly_name: 'Ünïcode Tenant ✓',
        flags: { a: true },
        support_email: 'help@example.com',
        allowed_logout_urls: ['https://x.example.com'],
      },
    });
    expect(res.statusCode).toBe(200);
    const second = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token,
      body: { flags: { b: false }, support_email: null },
    });
    expect(second.json()).toMatchObject({
      friendly_name: 'Ünïcode Tenant ✓',
      flags: { a: true, b: false },
      allowed_logout_urls: ['https://x.example.com'],
    });
    expect(second.json()).not.toHaveProperty('support_email');
    expect((await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings', token })).json()).toEqual(
      second.json(),
    );
  });

  it.each([
    [
      { unknown_setting: 1 },
      "Payload validation error: 'Additional properties not allowed: unknown_setting'.",
    ],
    [
      { session_lifetime: 'long' },
      "Payload validation error: 'must be number' on property session_lifetime.",
    ],
    [
      { default_directory: 'no-such-connection' },
      'Payload validation error: connection no-such-connection does not exist.',
    ],
    [{ flags: { a: 'yes' } }, expect.stringContaining('flags')],
  ])('refuses %j with 400', async (body, message) => {
    const res = await api(t.app, { method: 'PATCH', url: '/api/v2/tenants/settings', token, body });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ statusCode: 400, error: 'Bad Request', message, errorCode: 'invalid_body' });
  });

  it('needs the tenant settings scopes', async () => {
    const narrow = await t.managementTokenWith(['read:tenant_settings']);
    expect(
      (await api(t.app, { method: 'GET', url: '/api/v2/tenants/settings', token: narrow })).statusCode,
    ).toBe(200);
    const res = await api(t.app, {
      method: 'PATCH',
      url: '/api/v2/tenants/settings',
      token: narrow,
      body: {},
    });
    expect(res.json()).toMatchObject({
      statusCode: 403,
      message: 'Insufficient scope, expected any of: update:tenant_settings',
    });
  });
});
