import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_SETTINGS } from '../../../src/config/schema.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { form, jwtPayload } from '../../helpers/http.js';
import {
  APP_ORIGIN,
  ME_AUDIENCE,
  me,
  myAccountFixture,
  problem,
  type MyAccountFixture,
} from '../../helpers/myaccount.js';

const FACTORS = { factors: [{ type: 'passkey', usage: ['primary'] }] };

describe.each(testBackends())('My Account API surface on $name (spec 2.5, 3.1, 3.7)', (backend) => {
  let t: TestApp;
  let f: MyAccountFixture;
  beforeAll(async () => {
    t = await buildTestApp(backend, {
      server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: 1_000_000 },
    });
    f = await myAccountFixture(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 404 before activation, works after it, and 404 again once the resource server is deleted', async () => {
    const user = await f.make.user();
    const before = await me(t, 'GET', '/factors', 'any-token');
    expect(before.statusCode).toBe(404);
    expect(before.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(before.json()).toEqual(
      problem(404, 'Not Found', 'The requested resource GET /me/v1/factors was not found.'),
    );
    // Without the API no token for it can be had either.
    const id = await f.activate();
    const token = await f.tokenFor(user);
    const during = await me(t, 'GET', '/factors', token);
    expect(during.statusCode).toBe(200);
    expect(during.json()).toEqual(FACTORS);
    expect(during.headers['cache-control']).toBe('no-store');
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/v2/resource-servers/${id}`,
      headers: { authorization: `Bearer ${await t.managementToken()}` },
    });
    expect(removed.statusCode).toBe(204);
    const after = await me(t, 'POST', '/authentication-methods', token, { type: 'passkey' });
    expect(after.statusCode).toBe(404);
    expect(after.json()).toEqual(
      problem(404, 'Not Found', 'The requested resource POST /me/v1/authentication-methods was not found.'),
    );
    await f.activate();
  });

  it('gives a first-party application with a user client grant the My Account scopes, aud array accepted', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user, ['read:me:factors', 'create:me:authentication_methods']);
    const claims = jwtPayload(token);
    expect(claims['aud']).toEqual([ME_AUDIENCE, `${TEST_ISSUER}userinfo`]);
    expect(claims['scope']).toBe('openid create:me:authentication_methods read:me:factors');
    expect((await me(t, 'GET', '/factors', token)).json()).toEqual(FACTORS);
  });

  it('refuses missing, malformed, invalid, expired and foreign-audience tokens with 401', async () => {
    const user = await f.make.user();
    const missing = await me(t, 'GET', '/factors', undefined);
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(missing.json()).toEqual(problem(401, 'Unauthorized', 'Missing authentication'));

    const garbage = await me(t, 'GET', '/factors', 'not-a-jwt');
    expect(garbage.statusCode).toBe(401);
    expect(garbage.json()).toEqual(problem(401, 'Unauthorized', 'Bad HTTP authentication header format'));
    expect(garbage.headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="Bad HTTP authentication header format"',
    );

    const token = await f.tokenFor(user);
    const [head, body] = token.split('.');
    const forged = await me(t, 'GET', '/factors', `${head ?? ''}.${body ?? ''}.AAAA`);
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toEqual(problem(401, 'Unauthorized', 'Invalid token'));

    const management = await me(t, 'GET', '/factors', await t.managementToken());
    expect(management.statusCode).toBe(401);
    expect(management.json()).toEqual(problem(401, 'Unauthorized', `Bad audience: ${MGMT_AUDIENCE}`));
    expect(jwtPayload(await t.managementToken())['aud']).toBe(MGMT_AUDIENCE);

    const otherApi = await f.make.api();
    const otherToken = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        client_id: f.client.clientId,
        client_secret: f.client.clientSecret,
        username: user.email ?? '',
        password: 'Pass-word-123',
        audience: otherApi.identifier,
        scope: 'openid',
      }),
    });
    expect(otherToken.statusCode).toBe(200);
    const other = await me(t, 'GET', '/factors', otherToken.json<{ access_token: string }>().access_token);
    expect(other.json()).toEqual(
      problem(401, 'Unauthorized', `Bad audience: ${otherApi.identifier} ${TEST_ISSUER}userinfo`),
    );

    const expiring = await f.tokenFor(user);
    const exp = Number(jwtPayload(expiring)['exp']);
    const started = t.clock.now();
    t.clock.set(exp * 1000 + 1000);
    const expired = await me(t, 'GET', '/factors', expiring);
    t.clock.set(started);
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toEqual(
      problem(401, 'Unauthorized', 'Expired token received for JSON Web Token validation'),
    );
  });

  it('refuses a token whose user was blocked or deleted', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user);
    expect((await me(t, 'GET', '/factors', token)).statusCode).toBe(200);
    const mgmt = { authorization: `Bearer ${await t.managementToken()}` };
    const block = await t.app.inject({
      method: 'PATCH',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      headers: mgmt,
      payload: { blocked: true },
    });
    expect(block.statusCode).toBe(200);
    const blocked = await me(t, 'GET', '/factors', token);
    expect(blocked.statusCode).toBe(401);
    expect(blocked.json()).toEqual(problem(401, 'Unauthorized', 'Invalid token'));
    await t.app.inject({
      method: 'DELETE',
      url: `/api/v2/users/${encodeURIComponent(user.userId)}`,
      headers: mgmt,
    });
    expect((await me(t, 'GET', '/factors', token)).statusCode).toBe(401);
  });

  it('answers 403 insufficient_scope for a token without the route scope, before validating the body', async () => {
    const user = await f.make.user();
    const token = await f.tokenFor(user, ['read:me:factors']);
    const res = await me(t, 'POST', '/authentication-methods', token, { type: 'passkey', nope: 1 });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(
      problem(
        403,
        'insufficient_scope',
        'Insufficient scope, expected any of: create:me:authentication_methods',
      ),
    );
    const list = await me(t, 'GET', '/authentication-methods', token);
    expect(list.json()).toEqual(
      problem(
        403,
        'insufficient_scope',
        'Insufficient scope, expected any of: read:me:authentication_methods',
      ),
    );
  });

  it('answers 400 with validation_errors for unknown body fields and bad queries', async () => {
    const token = await f.tokenFor(await f.make.user());
    const res = await me(t, 'POST', '/authentication-methods', token, { type: 'passkey', colour: 'red' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      ...problem(
        400,
        'Bad Request',
        "Payload validation error: 'Additional properties not allowed: colour'.",
      ),
      validation_errors: [
        { detail: 'Additional properties not allowed', field: 'colour', pointer: '/colour', source: 'body' },
      ],
    });
    const unsupported = await me(t, 'POST', '/authentication-methods', token, { type: 'push-notification' });
    expect(unsupported.statusCode).toBe(400);
    expect(unsupported.json()).toEqual(
      problem(400, 'Bad Request', 'Authentication method type "push-notification" is not supported.'),
    );
    const query = await me(t, 'GET', '/authentication-methods?type=fax', token);
    expect(query.statusCode).toBe(400);
    expect(query.json()).toMatchObject({ status: 400, title: 'Bad Request' });
    const unknown = await me(t, 'GET', '/nothing-here', token);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual(
      problem(404, 'Not Found', 'The requested resource GET /me/v1/nothing-here was not found.'),
    );
  });

  it('answers CORS preflights from the tenant origins and lets the token application read answers', async () => {
    const token = await f.tokenFor(await f.make.user());
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/me/v1/authentication-methods',
      headers: {
        origin: APP_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, POST, PATCH, DELETE');
    expect(preflight.headers['access-control-allow-headers']).toBe(
      'Content-Type, Authorization, Auth0-Client, DPoP',
    );
    const stranger = await t.app.inject({
      method: 'OPTIONS',
      url: '/me/v1/factors',
      headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'GET' },
    });
    expect(stranger.statusCode).toBe(403);
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();

    const actual = await me(
      t,
      'POST',
      '/authentication-methods',
      token,
      { type: 'passkey' },
      { origin: APP_ORIGIN },
    );
    expect(actual.statusCode).toBe(202);
    expect(actual.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(actual.headers['access-control-expose-headers']).toBe(
      'Location, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, WWW-Authenticate',
    );
    expect(actual.headers['vary']).toBe('Origin');
    const foreign = await me(t, 'GET', '/factors', token, undefined, { origin: 'https://evil.example.net' });
    expect(foreign.statusCode).toBe(200);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe.each(testBackends())('My Account API rate limit on $name (spec 2.5)', (backend) => {
  const LIMIT = 3;
  let t: TestApp;
  let f: MyAccountFixture;
  beforeAll(async () => {
    t = await buildTestApp(backend, { server: { ...DEFAULT_SERVER_SETTINGS, myAccountRateLimit: LIMIT } });
    f = await myAccountFixture(t);
    await f.activate();
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts every user of the tenant in one window, with x-ratelimit-* headers and a 429 past it', async () => {
    const first = await f.tokenFor(await f.make.user());
    const second = await f.tokenFor(await f.make.user());
    const reset = String(Math.floor(t.clock.now() / 1000) + 1);
    const answers = [];
    for (const token of [first, second, first, second]) answers.push(await me(t, 'GET', '/factors', token));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 429]);
    expect(
      answers.map((r) => [
        r.headers['x-ratelimit-limit'],
        r.headers['x-ratelimit-remaining'],
        r.headers['x-ratelimit-reset'],
      ]),
    ).toEqual([
      ['3', '2', reset],
      ['3', '1', reset],
      ['3', '0', reset],
      ['3', '0', reset],
    ]);
    const refused = answers[3];
    expect(refused?.headers['retry-after']).toBe('1');
    expect(refused?.json()).toEqual({
      type: 'about:blank',
      status: 429,
      title: 'Too Many Requests',
      detail:
        'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.',
    });
    t.clock.advance(1000);
    expect((await me(t, 'GET', '/factors', first)).statusCode).toBe(200);
  });
});
