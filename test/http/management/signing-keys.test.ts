import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { api, jwtHeader } from '../../helpers/http.js';

interface KeyView {
  kid: string;
  cert: string;
  current?: boolean;
  next?: boolean;
  previous?: boolean;
  revoked?: boolean;
}

describe.each(testBackends())('/api/v2/keys/signing on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  const jwksKids = async () =>
    (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }))
      .json<{ keys: { kid: string }[] }>()
      .keys.map((k) => k.kid);

  it('keeps exactly one current and one next key when rotations race', async () => {
    const own = await buildTestApp(backend);
    try {
      const token = await own.managementToken();
      const rotations = await Promise.all(
        Array.from({ length: 5 }, () =>
          api(own.app, { method: 'POST', url: '/api/v2/keys/signing/rotate', token }),
        ),
      );
      expect(rotations.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(rotations.map((r) => r.json<{ kid: string }>().kid)).size).toBe(5);
      // The token's key has been retired by now: read with a fresh one.
      const fresh = await own.managementTokenWith(['read:signing_keys']);
      const listed = await api(own.app, { method: 'GET', url: '/api/v2/keys/signing', token: fresh });
      const keys = listed.json<KeyView[]>();
      expect(keys.filter((k) => k.current === true)).toHaveLength(1);
      expect(keys.filter((k) => k.next === true)).toHaveLength(1);
      expect(keys.filter((k) => k.previous === true)).toHaveLength(1);
      const jwks = await own.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(jwks.json<{ keys: unknown[] }>().keys).toHaveLength(3);
    } finally {
      await own.close();
    }
  });

  it('lists, rotates, verifies old tokens until revoked, and retires keys', async () => {
    const oldToken = await t.managementToken();
    const list = await api(t.app, { method: 'GET', url: '/api/v2/keys/signing', token: oldToken });
    expect(list.statusCode).toBe(200);
    const keys = list.json<KeyView[]>();
    expect(keys).toEqual([
      {
        kid: expect.any(String),
        cert: expect.stringMatching(/^-----BEGIN CERTIFICATE-----/),
        fingerprint: expect.stringMatching(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/),
        thumbprint: expect.stringMatching(/^[0-9A-F]{40}$/),
        current: true,
        current_since: expect.any(String),
      },
      {
        kid: expect.any(String),
        cert: expect.any(String),
        fingerprint: expect.any(String),
        thumbprint: expect.any(String),
        next: true,
      },
    ]);
    const [first, second] = keys as [KeyView, KeyView];
    expect(jwtHeader(oldToken)['kid']).toBe(first.kid);
    expect(await jwksKids()).toEqual([first.kid, second.kid]);

    const one = await api(t.app, {
      method: 'GET',
      url: `/api/v2/keys/signing/${second.kid}`,
      token: oldToken,
    });
    expect(one.json()).toMatchObject({ kid: second.kid, next: true });

    const rotated = await api(t.app, { method: 'POST', url: '/api/v2/keys/signing/rotate', token: oldToken });
    expect(rotated.statusCode).toBe(201);
    expect(rotated.json()).toEqual({ kid: second.kid, cert: second.cert });
    const after = await jwksKids();
    expect(after).toHaveLength(3);
    expect(after[0]).toBe(second.kid);
    expect(after).toContain(first.kid);

    const newToken = await t.managementTokenWith([
      'read:signing_keys',
      'update:signing_keys',
      'create:signing_keys',
    ]);
    expect(jwtHeader(newToken)['kid']).toBe(second.kid);
    expect(
      (await api(t.app, { method: 'GET', url: '/api/v2/keys/signing', token: oldToken })).statusCode,
    ).toBe(200);

    const refuseCurrent = await api(t.app, {
      method: 'PUT',
      url: `/api/v2/keys/signing/${second.kid}/revoke`,
      token: newToken,
    });
    expect(refuseCurrent.statusCode).toBe(400);
    const revoked = await api(t.app, {
      method: 'PUT',
      url: `/api/v2/keys/signing/${first.kid}/revoke`,
      token: newToken,
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toEqual({ kid: first.kid, cert: first.cert });
    expect(await jwksKids()).not.toContain(first.kid);
    const rejected = await api(t.app, { method: 'GET', url: '/api/v2/keys/signing', token: oldToken });
    expect(rejected.statusCode).toBe(401);
    expect(rejected.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Invalid token',
      errorCode: 'invalid_token',
    });
    const listed = (await api(t.app, { method: 'GET', url: '/api/v2/keys/signing', token: newToken })).json<
      KeyView[]
    >();
    expect(listed.find((k) => k.kid === first.kid)).toMatchObject({
      previous: true,
      revoked: true,
      revoked_at: expect.any(String),
    });

    // Rotating twice retires the oldest published key.
    await api(t.app, { method: 'POST', url: '/api/v2/keys/signing/rotate', token: newToken });
    const twice = await jwksKids();
    expect(twice).toHaveLength(3);
    expect(twice).toContain(second.kid);
    await api(t.app, { method: 'POST', url: '/api/v2/keys/signing/rotate', token: newToken });
    expect(await jwksKids()).not.toContain(second.kid);
  });

  it('404s an unknown kid', async () => {
    // The cached full token was signed by a key the previous test revoked.
    const res = await api(t.app, {
      method: 'GET',
      url: '/api/v2/keys/signing/nope',
      token: await t.managementTokenWith(['read:signing_keys']),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Signing key not found',
      errorCode: 'inexistent_key',
    });
  });

  it('needs both create and update scopes to rotate', async () => {
    const token = await t.managementTokenWith(['update:signing_keys']);
    const res = await api(t.app, { method: 'POST', url: '/api/v2/keys/signing/rotate', token });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ message: 'Insufficient scope, expected any of: create:signing_keys' });
  });
});
