import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILED_AUTH_PER_ADDRESS } from '../../../src/server/failed-auth-limit.js';
import { testBackends } from '../../helpers/backends.js';
import {
  BOOTSTRAP_CLIENT_ID,
  BOOTSTRAP_CLIENT_SECRET,
  buildTestApp,
  MGMT_AUDIENCE,
  type TestApp,
} from '../../helpers/build-test-app.js';

const LIMIT = 3;
const WINDOW = 60;
const limits = { failedAuthLimit: { limit: LIMIT, windowSeconds: WINDOW } };
/** An address of its own per test: with Redis, counts are shared by every app of one namespace. */
const freshAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

const OAUTH_429 = {
  error: 'too_many_requests',
  error_description:
    'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.',
};
const MANAGEMENT_429 = {
  statusCode: 429,
  error: 'Too Many Requests',
  message:
    'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.',
  errorCode: 'too_many_requests',
};

describe.each(testBackends())('failed authentications per address on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend, {}, limits);
  });
  afterAll(async () => {
    await t.close();
  });

  const windowEnd = () => (Math.floor(t.clock.now() / 1000 / WINDOW) + 1) * WINDOW;
  const expectRefusal = (res: { statusCode: number; headers: Record<string, unknown> }) => {
    expect(res.statusCode).toBe(429);
    expect({
      limit: res.headers['x-ratelimit-limit'],
      remaining: res.headers['x-ratelimit-remaining'],
      reset: res.headers['x-ratelimit-reset'],
      retryAfter: res.headers['retry-after'],
    }).toEqual({
      limit: String(LIMIT),
      remaining: '0',
      reset: String(windowEnd()),
      retryAfter: String(windowEnd() - Math.floor(t.clock.now() / 1000)),
    });
  };
  const token = (remoteAddress: string, secret: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      remoteAddress,
      payload: {
        grant_type: 'client_credentials',
        client_id: BOOTSTRAP_CLIENT_ID,
        client_secret: secret,
        audience: MGMT_AUDIENCE,
      },
    });

  it('refuses an address at the token endpoint after its failures, even with the right secret, until the window ends', async () => {
    const address = freshAddress();
    for (let i = 0; i < LIMIT; i++) expect((await token(address, 'wrong')).statusCode).toBe(401);
    const refused = await token(address, BOOTSTRAP_CLIENT_SECRET);
    expectRefusal(refused);
    expect(refused.json()).toEqual(OAUTH_429);
    expect((await token(freshAddress(), BOOTSTRAP_CLIENT_SECRET)).statusCode).toBe(200);
    t.clock.set(windowEnd() * 1000);
    expect((await token(address, BOOTSTRAP_CLIENT_SECRET)).statusCode).toBe(200);
  });

  it('does not count successful authentications or failures that are not authentication', async () => {
    const address = freshAddress();
    for (let i = 0; i < LIMIT + 2; i++) {
      expect((await token(address, BOOTSTRAP_CLIENT_SECRET)).statusCode).toBe(200);
      const noAudience = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: address,
        payload: {
          grant_type: 'client_credentials',
          client_id: BOOTSTRAP_CLIENT_ID,
          client_secret: BOOTSTRAP_CLIENT_SECRET,
        },
      });
      expect(noAudience.statusCode).toBe(400);
    }
  });

  it('counts unknown clients and failed client authentication at /oauth/revoke', async () => {
    const address = freshAddress();
    const revoke = (clientId: string) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        remoteAddress: address,
        payload: { client_id: clientId, client_secret: 'wrong', token: 'x' },
      });
    expect((await revoke('nobody')).statusCode).toBe(401);
    expect((await revoke(BOOTSTRAP_CLIENT_ID)).statusCode).toBe(401);
    expect((await token(address, 'wrong')).statusCode).toBe(401);
    const refused = await revoke(BOOTSTRAP_CLIENT_ID);
    expectRefusal(refused);
    expect(refused.json()).toEqual(OAUTH_429);
  });

  it('refuses an address at the Management API after bad bearer tokens, in Auth0 shape; a missing token is no attempt', async () => {
    const address = freshAddress();
    const call = (authorization?: string) =>
      t.app.inject({
        method: 'GET',
        url: '/api/v2/resource-servers',
        remoteAddress: address,
        ...(authorization !== undefined ? { headers: { authorization } } : {}),
      });
    for (let i = 0; i < LIMIT + 2; i++) expect((await call()).statusCode).toBe(401);
    expect((await call('Bearer not-a-jwt')).statusCode).toBe(400);
    expect((await call('Token abc')).statusCode).toBe(400);
    expect((await call('Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).statusCode).toBe(401);
    const refused = await call(`Bearer ${await t.managementToken()}`);
    expectRefusal(refused);
    expect(refused.json()).toEqual(MANAGEMENT_429);
  });

  it('shares the count between surfaces: /userinfo refuses after failures elsewhere, in the OAuth shape', async () => {
    const address = freshAddress();
    for (let i = 0; i < LIMIT; i++) expect((await token(address, 'wrong')).statusCode).toBe(401);
    const refused = await t.app.inject({
      method: 'GET',
      url: '/userinfo',
      remoteAddress: address,
      headers: { authorization: 'Bearer not-a-jwt' },
    });
    expectRefusal(refused);
    expect(refused.json()).toEqual(OAUTH_429);
  });

  it('counts bad bearer tokens at /userinfo', async () => {
    const address = freshAddress();
    const userinfo = () =>
      t.app.inject({
        method: 'GET',
        url: '/userinfo',
        remoteAddress: address,
        headers: { authorization: 'Bearer not-a-jwt' },
      });
    for (let i = 0; i < LIMIT; i++) expect((await userinfo()).statusCode).toBe(401);
    expectRefusal(await userinfo());
    expect((await token(address, BOOTSTRAP_CLIENT_SECRET)).statusCode).toBe(429);
  });
});

describe.each(testBackends())('wrong client secrets at the default limit on $name', (backend) => {
  it('refuses 270 of 300 wrong secrets for one client from one address, and then the right one', async () => {
    const t = await buildTestApp(backend, {}, { failedAuthLimit: FAILED_AUTH_PER_ADDRESS });
    try {
      const address = freshAddress();
      const statuses: number[] = [];
      for (let i = 0; i < 300; i++) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/oauth/token',
          remoteAddress: address,
          payload: {
            grant_type: 'client_credentials',
            client_id: BOOTSTRAP_CLIENT_ID,
            client_secret: `wrong-${i}`,
            audience: MGMT_AUDIENCE,
          },
        });
        statuses.push(res.statusCode);
      }
      const limit = FAILED_AUTH_PER_ADDRESS.limit;
      expect(statuses).toEqual([...Array(limit).fill(401), ...Array(300 - limit).fill(429)]);
      const right = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: address,
        payload: {
          grant_type: 'client_credentials',
          client_id: BOOTSTRAP_CLIENT_ID,
          client_secret: BOOTSTRAP_CLIENT_SECRET,
          audience: MGMT_AUDIENCE,
        },
      });
      expect(right.statusCode).toBe(429);
    } finally {
      await t.close();
    }
  });
});

const redisUrl = process.env['LATCHKEY_TEST_REDIS_URL'];

describe.skipIf(!redisUrl)('failed authentications across two nodes sharing Redis', () => {
  const redisNamespace = `latchkey-test:shared-${randomInt(1e9)}:`;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await buildTestApp(undefined, {}, { ...limits, redisNamespace });
    b = await buildTestApp(undefined, {}, { ...limits, redisNamespace });
    // Windows are counted by the clock: the two nodes must agree on it.
    b.clock.set(a.clock.now());
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  const token = (app: TestApp, remoteAddress: string, secret: string) =>
    app.app.inject({
      method: 'POST',
      url: '/oauth/token',
      remoteAddress,
      payload: {
        grant_type: 'client_credentials',
        client_id: BOOTSTRAP_CLIENT_ID,
        client_secret: secret,
        audience: MGMT_AUDIENCE,
      },
    });

  it('counts failures on both nodes against one limit', async () => {
    const address = freshAddress();
    for (let i = 0; i < LIMIT - 1; i++) expect((await token(a, address, 'wrong')).statusCode).toBe(401);
    // The shared count reaches the limit with node B's first failure: B refuses from then on.
    expect((await token(b, address, 'wrong')).statusCode).toBe(401);
    expect((await token(b, address, BOOTSTRAP_CLIENT_SECRET)).statusCode).toBe(429);
  });

  it('lets a node that has seen only successes serve the address until it sees a failure itself', async () => {
    const address = freshAddress();
    for (let i = 0; i < LIMIT; i++) expect((await token(a, address, 'wrong')).statusCode).toBe(401);
    expect((await token(a, address, BOOTSTRAP_CLIENT_SECRET)).statusCode).toBe(429);
    expect((await token(b, address, 'wrong')).statusCode).toBe(401);
    expect((await token(b, address, BOOTSTRAP_CLIENT_SECRET)).statusCode).toBe(429);
  });
});
