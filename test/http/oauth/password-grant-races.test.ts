import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form } from '../../helpers/http.js';

const PASSWORD = 'Pass-word-123';
const WRONG = { error: 'invalid_grant', error_description: 'Wrong email or password.' };
const TOO_MANY = {
  error: 'too_many_attempts',
  error_description:
    'Your account has been blocked after multiple consecutive login attempts. Wait for the block to expire or ask an administrator to lift it.',
};

// Parallel requests against one user: on PostgreSQL they really run concurrently.
describe.each(testBackends())('password grant under concurrent requests on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let client: Client;
  let apiId: string;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    client = await make.client({ grantTypes: ['password'] });
    await make.enableConnection(client.clientId);
    apiId = (await make.api({ scopes: [{ value: 'read:a' }, { value: 'write:a' }] })).identifier;
  });
  afterAll(async () => {
    await t.close();
  });

  const login = (fields: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        ...fields,
      }),
    });
  const parallel = <T>(n: number, run: (i: number) => Promise<T>) =>
    Promise.all(Array.from({ length: n }, (_, i) => run(i)));
  const userUrl = (u: User) => `/api/v2/users/${encodeURIComponent(u.userId)}`;

  it('records one consent when parallel logins grant the same user, client and API', async () => {
    const user = await make.user();
    const results = await parallel(8, () =>
      login({ username: user.email ?? '', password: PASSWORD, audience: apiId, scope: 'read:a' }),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    const grants = await api(t.app, {
      method: 'GET',
      url: `/api/v2/grants?user_id=${encodeURIComponent(user.userId)}`,
      token: await t.managementToken(),
    });
    expect(grants.json()).toEqual([
      {
        id: expect.any(String),
        clientID: client.clientId,
        user_id: user.userId,
        audience: apiId,
        scope: ['read:a'],
      },
    ]);
  });

  it('evaluates at most 10 parallel wrong passwords per user and IP; the rest get 429 and the block holds', async () => {
    const user = await make.user();
    const results = await parallel(30, (i) => login({ username: user.email ?? '', password: `wrong-${i}` }));
    const wrong = results.filter((r) => r.statusCode === 403);
    const blocked = results.filter((r) => r.statusCode === 429);
    expect(wrong).toHaveLength(10);
    expect(blocked).toHaveLength(20);
    for (const r of wrong) expect(r.json()).toEqual(WRONG);
    for (const r of blocked) expect(r.json()).toEqual(TOO_MANY);

    const right = await login({ username: user.email ?? '', password: PASSWORD });
    expect(right.statusCode).toBe(429);
    expect(right.json()).toEqual(TOO_MANY);
    const lift = await api(t.app, {
      method: 'DELETE',
      url: `/api/v2/user-blocks/${encodeURIComponent(user.userId)}`,
      token: await t.managementToken(),
    });
    expect(lift.statusCode).toBe(204);
    expect((await login({ username: user.email ?? '', password: PASSWORD })).statusCode).toBe(200);
  });

  it('counts every one of N parallel logins in logins_count', async () => {
    const user = await make.user();
    const results = await parallel(6, () => login({ username: user.email ?? '', password: PASSWORD }));
    expect(results.map((r) => r.statusCode)).toEqual(Array(6).fill(200));
    const stored = await api(t.app, { method: 'GET', url: userUrl(user), token: await t.managementToken() });
    expect(stored.json()).toMatchObject({ logins_count: 6, last_ip: '127.0.0.1' });
  });

  it('keeps a block and a password change made by an admin while logins are in flight', async () => {
    const user = await make.user();
    const token = await t.managementToken();
    const [patch, ...logins] = await Promise.all([
      api(t.app, {
        method: 'PATCH',
        url: userUrl(user),
        token,
        body: { blocked: true, password: 'Brand-new-Pass-7' },
      }),
      ...Array.from({ length: 6 }, () => login({ username: user.email ?? '', password: PASSWORD })),
    ]);
    expect(patch.statusCode).toBe(200);
    // A login that got in before the PATCH succeeds and is counted; one that read the new hash fails the
    // password check; one that verified the old password but records after the PATCH sees the block.
    for (const r of logins.filter((l) => l.statusCode !== 200)) {
      expect([{ error: 'unauthorized', error_description: 'user is blocked' }, WRONG]).toContainEqual(
        r.json(),
      );
    }
    const stored = (await api(t.app, { method: 'GET', url: userUrl(user), token })).json<{
      blocked?: boolean;
      logins_count: number;
    }>();
    expect(stored.blocked).toBe(true);
    expect(stored.logins_count).toBe(logins.filter((r) => r.statusCode === 200).length);

    await api(t.app, { method: 'PATCH', url: userUrl(user), token, body: { blocked: false } });
    expect((await login({ username: user.email ?? '', password: PASSWORD })).json()).toEqual(WRONG);
    expect((await login({ username: user.email ?? '', password: 'Brand-new-Pass-7' })).statusCode).toBe(200);
  });
});
