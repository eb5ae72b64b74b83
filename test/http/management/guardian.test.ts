import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api } from '../../helpers/http.js';

const NAMES = [
  'sms',
  'push-notification',
  'otp',
  'email',
  'duo',
  'webauthn-roaming',
  'webauthn-platform',
  'recovery-code',
];

describe.each(testBackends())('/api/v2/guardian/factors and /guardian/policies on $name', (backend) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    token = await t.managementToken();
  });
  afterAll(async () => {
    await t.close();
  });

  const call = (method: 'GET' | 'PUT', url: string, body?: unknown) =>
    api(t.app, { method, url: `/api/v2${url}`, token, ...(body === undefined ? {} : { body }) });
  const listed = (enabled: readonly string[]) =>
    NAMES.map((name) => ({ name, enabled: enabled.includes(name), trial_expired: false }));

  it('lists every factor off on a new tenant, and turns factors on and off one by one', async () => {
    const first = await call('GET', '/guardian/factors');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual(listed([]));

    const on = await call('PUT', '/guardian/factors/otp', { enabled: true });
    expect(on.statusCode).toBe(200);
    expect(on.json()).toEqual({ enabled: true });
    expect((await call('PUT', '/guardian/factors/recovery-code', { enabled: true })).json()).toEqual({
      enabled: true,
    });
    expect((await call('GET', '/guardian/factors')).json()).toEqual(listed(['otp', 'recovery-code']));

    const off = await call('PUT', '/guardian/factors/otp', { enabled: false });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toEqual({ enabled: false });
    expect((await call('GET', '/guardian/factors')).json()).toEqual(listed(['recovery-code']));
    // Idempotent: the same PUT twice leaves one entry.
    await call('PUT', '/guardian/factors/recovery-code', { enabled: true });
    expect((await call('GET', '/guardian/factors')).json()).toEqual(listed(['recovery-code']));
    await call('PUT', '/guardian/factors/recovery-code', { enabled: false });
    expect((await call('GET', '/guardian/factors')).json()).toEqual(listed([]));
  });

  it('refuses unknown factors, missing or mistyped enabled and unknown fields, changing nothing', async () => {
    for (const [url, body] of [
      ['/guardian/factors/fax', { enabled: true }],
      ['/guardian/factors/otp', {}],
      ['/guardian/factors/otp', { enabled: 'yes' }],
      ['/guardian/factors/otp', { enabled: true, colour: 'red' }],
    ] as const) {
      const res = await call('PUT', url, body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    }
    expect((await call('GET', '/guardian/factors')).json()).toEqual(listed([]));
  });

  it('keeps the MFA policy: none or all-applications', async () => {
    const none = await call('GET', '/guardian/policies');
    expect(none.statusCode).toBe(200);
    expect(none.json()).toEqual([]);
    const all = await call('PUT', '/guardian/policies', ['all-applications']);
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual(['all-applications']);
    expect((await call('GET', '/guardian/policies')).json()).toEqual(['all-applications']);
    for (const bad of [
      ['confidence-score'],
      { policy: 'all-applications' },
      ['all-applications', 'all-applications'],
    ]) {
      const res = await call('PUT', '/guardian/policies', bad);
      expect(res.statusCode).toBe(400);
    }
    expect((await call('GET', '/guardian/policies')).json()).toEqual(['all-applications']);
    // The factors are kept beside the policy: changing one leaves the other.
    await call('PUT', '/guardian/factors/otp', { enabled: true });
    expect((await call('GET', '/guardian/policies')).json()).toEqual(['all-applications']);
    const reset = await call('PUT', '/guardian/policies', []);
    expect(reset.json()).toEqual([]);
    expect((await call('GET', '/guardian/policies')).json()).toEqual([]);
    expect((await call('GET', '/guardian/factors')).json()).toEqual(listed(['otp']));
  });

  it('answers 403 insufficient_scope to a token without the guardian scopes', async () => {
    const weak = await t.managementTokenWith(['read:users']);
    for (const [method, url, body] of [
      ['GET', '/guardian/factors', undefined],
      ['PUT', '/guardian/factors/otp', { enabled: true }],
      ['GET', '/guardian/policies', undefined],
      ['PUT', '/guardian/policies', []],
    ] as const) {
      const res = await api(t.app, { method, url: `/api/v2${url}`, token: weak, ...(body ? { body } : {}) });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ statusCode: 403, errorCode: 'insufficient_scope' });
    }
  });
});
