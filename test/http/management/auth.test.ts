import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { clientCredentials } from '../../helpers/http.js';

const URL = '/api/v2/resource-servers';

describe.each(testBackends())('Management API authentication on $name (seed 003)', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  const call = (authorization?: string) =>
    t.app.inject({
      method: 'GET',
      url: URL,
      ...(authorization !== undefined ? { headers: { authorization } } : {}),
    });

  /** Signs claims with the tenant's own current key, so only the claim under test is wrong. */
  async function tenantSigned(claims: Record<string, unknown>): Promise<string> {
    return t.deps.signer.sign(claims, { alg: 'RS256', typ: 'JWT' });
  }
  const now = () => Math.floor(t.clock.now() / 1000);
  const good = () => ({
    iss: TEST_ISSUER,
    sub: 'x@clients',
    aud: MGMT_AUDIENCE,
    iat: now(),
    exp: now() + 60,
    scope: 'read:resource_servers',
  });

  it('accepts a client-credentials token for the Management API', async () => {
    const res = await call(`Bearer ${await t.managementToken()}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-ratelimit-limit']).toMatch(/^\d+$/);
    expect(res.headers['x-ratelimit-remaining']).toMatch(/^\d+$/);
    expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(now());
  });

  it('answers 401 Missing authentication without a header', async () => {
    const res = await call();
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Missing authentication',
      errorCode: 'invalid_token',
    });
  });

  it('answers 400 Bad HTTP authentication header format for a bearer that is not a JWT', async () => {
    for (const header of ['Bearer not-a-jwt', 'Token abc', 'Bearer']) {
      const res = await call(header);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        statusCode: 400,
        error: 'Bad Request',
        message: 'Bad HTTP authentication header format',
      });
    }
  });

  it.each([
    [
      'an expired token',
      () => ({ ...good(), iat: now() - 120, exp: now() - 60 }),
      'Expired token received for JSON Web Token validation',
    ],
    ['another issuer', () => ({ ...good(), iss: 'https://evil.example.com/' }), 'Invalid token'],
    [
      'another audience',
      () => ({ ...good(), aud: 'https://orders.example.com/' }),
      'Bad audience: https://orders.example.com/',
    ],
    [
      'two audiences (seed 003: one audience per token)',
      () => ({ ...good(), aud: [MGMT_AUDIENCE, `${TEST_ISSUER}userinfo`] }),
      `Bad audience: ${MGMT_AUDIENCE} ${TEST_ISSUER}userinfo`,
    ],
    [
      'an ID token (aud = client id)',
      () => ({ ...good(), aud: 'some-client-id', nonce: 'n' }),
      'Bad audience: some-client-id',
    ],
  ])('answers 401 for %s', async (_name, claims, message) => {
    const res = await call(`Bearer ${await tenantSigned(claims())}`);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message,
      errorCode: 'invalid_token',
    });
  });

  it('refuses a remembered token once it expires', async () => {
    const token = await tenantSigned({ ...good(), exp: now() + 30 });
    expect((await call(`Bearer ${token}`)).statusCode).toBe(200);
    t.clock.advance(30_000);
    const res = await call(`Bearer ${token}`);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Expired token received for JSON Web Token validation',
      errorCode: 'invalid_token',
    });
  });

  it('answers 401 for a token signed by a key the tenant does not publish', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const kid =
      (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
        keys: { kid: string }[];
      }>().keys[0]?.kid ?? '';
    const forged = await new SignJWT(good()).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    const res = await call(`Bearer ${forged}`);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ message: 'Invalid token' });
  });

  it('answers 401 for an HS256 token even when signed with an API secret', async () => {
    const hs = await new SignJWT(good())
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    const res = await call(`Bearer ${hs}`);
    expect(res.statusCode).toBe(401);
  });

  it('answers 403 insufficient_scope naming the accepted scopes', async () => {
    const token = await t.managementTokenWith(['read:clients']);
    const res = await call(`Bearer ${token}`);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Insufficient scope, expected any of: read:resource_servers',
      errorCode: 'insufficient_scope',
    });
  });

  it('refuses a user token for an any-user endpoint even when it names the scope it does not hold', async () => {
    const token = await tenantSigned({ ...good(), sub: 'auth0|abc', scope: 'read:current_user' });
    const res = await call(`Bearer ${token}`);
    expect(res.statusCode).toBe(403);
  });

  it('answers unknown Management paths with a 404 in Auth0 shape', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v2/nothing-here',
      headers: { authorization: `Bearer ${await t.managementToken()}` },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Not Found',
      errorCode: 'not_found',
    });
  });

  it('checks tokens minted for other APIs by the same tenant as wrong audience', async () => {
    const make = createFactories(t.deps);
    const api = await make.api();
    const client = await make.client();
    await make.grant({ clientId: client.clientId, audience: api.identifier, scope: ['read:things'] });
    const res = await clientCredentials(t.app, client, api.identifier);
    const apiRes = await call(`Bearer ${res.json<{ access_token: string }>().access_token}`);
    expect(apiRes.statusCode).toBe(401);
    expect(apiRes.json()).toMatchObject({ message: `Bad audience: ${api.identifier}` });
  });
});
