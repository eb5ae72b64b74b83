import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { Writable } from 'node:stream';
import { SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, form } from '../../helpers/http.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FAILED = { error: 'invalid_client', error_description: 'Client authentication failed' };

// Issue 9: RFC 7523 with draft-ietf-oauth-rfc7523bis, and one answer for every client-authentication failure.
describe.each(testBackends())('client authentication on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let audience: string;
  let signer: Client;
  let privateKey: KeyObject;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    audience = (await make.api()).identifier;
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = keys.privateKey;
    signer = await make.client({ tokenEndpointAuthMethod: null });
    const token = await t.managementToken();
    const credential = await api(t.app, {
      method: 'POST',
      url: `/api/v2/clients/${signer.clientId}/credentials`,
      token,
      body: {
        credential_type: 'public_key',
        name: 'key',
        pem: keys.publicKey.export({ type: 'spki', format: 'pem' }),
        alg: 'RS256',
      },
    });
    const enabled = await api(t.app, {
      method: 'PATCH',
      url: `/api/v2/clients/${signer.clientId}`,
      token,
      body: {
        client_authentication_methods: {
          private_key_jwt: { credentials: [{ id: credential.json<{ id: string }>().id }] },
        },
      },
    });
    expect(enabled.statusCode).toBe(200);
    await make.grant({ clientId: signer.clientId, audience, scope: ['read:things'] });
  });
  afterAll(async () => {
    await t.close();
  });

  const now = () => Math.floor(t.clock.now() / 1000);
  /** An assertion as node-auth0 signs it, with `claims` replacing or (undefined) removing claims. */
  const assertion = (claims: Record<string, unknown> = {}, clientId = signer.clientId) => {
    const all: Record<string, unknown> = {
      iss: clientId,
      sub: clientId,
      aud: TEST_ISSUER,
      iat: now(),
      exp: now() + 180,
      jti: randomUUID(),
      ...claims,
    };
    const payload = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as JWTPayload;
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
  };
  const exchange = async (jwt: string, app = t.app) =>
    app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: jwt,
        audience,
      }),
    });

  it('accepts node-auth0’s and openid-client v6’s (oauth4webapi’s) assertions', async () => {
    const nodeAuth0 = await exchange(await assertion());
    expect(nodeAuth0.statusCode, nodeAuth0.body).toBe(200);
    const openidClient = await exchange(await assertion({ iat: now(), nbf: now(), exp: now() + 60 }));
    expect(openidClient.statusCode, openidClient.body).toBe(200);
  });

  it.each([
    [
      'an aud array that merely contains the issuer',
      () => ({ aud: [TEST_ISSUER, 'https://elsewhere.example/'] }),
    ],
    ['the issuer as a one-element aud array (rfc7523bis: a string)', () => ({ aud: [TEST_ISSUER] })],
    [
      'the token endpoint URL as aud (rfc7523bis: the issuer only)',
      () => ({ aud: `${TEST_ISSUER}oauth/token` }),
    ],
    ['another server as aud', () => ({ aud: 'https://elsewhere.example/' })],
    ['a numeric jti', () => ({ jti: 5 })],
    ['an empty jti', () => ({ jti: '' })],
    ['no jti', () => ({ jti: undefined })],
    ['an iat a year ahead', () => ({ iat: now() + 365 * 86_400, exp: now() + 60 })],
    ['an iat beyond the 60 s leeway', () => ({ iat: now() + 61 })],
    ['an nbf beyond the 60 s leeway', () => ({ nbf: now() + 61 })],
    ['an assertion living longer than an hour', () => ({ exp: now() + 3601 })],
    ['an expired assertion', () => ({ iat: now() - 600, exp: now() - 61 })],
  ])('refuses %s with the generic invalid_client', async (_name, claims) => {
    const res = await exchange(await assertion(claims()));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(FAILED);
  });

  it('tolerates a client clock up to 60 s ahead', async () => {
    const res = await exchange(await assertion({ iat: now() + 30, nbf: now() + 30 }));
    expect(res.statusCode, res.body).toBe(200);
  });

  it('uses a string jti once: "5" cannot be replayed, and 5 no longer collides with it', async () => {
    expect((await exchange(await assertion({ jti: '5' }))).statusCode).toBe(200);
    expect((await exchange(await assertion({ jti: '5' }))).json()).toEqual(FAILED);
    expect((await exchange(await assertion({ jti: 5 }))).json()).toEqual(FAILED);
  });

  it('answers every client-authentication failure alike, whatever the method, the client or the check', async () => {
    const post = await make.client();
    const basic = await make.client({ tokenEndpointAuthMethod: 'client_secret_basic' });
    const cc = (payload: Record<string, string>, headers: Record<string, string> = {}) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers,
        payload: { grant_type: 'client_credentials', audience, ...payload },
      });
    const basicAuth = (id: string, secret: string) => ({
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    });
    const failures = [
      await cc({ client_id: 'no-such-client', client_secret: 'x' }),
      await cc({ client_id: post.clientId, client_secret: 'wrong' }),
      // A confidential client sending no credentials at all.
      await cc({ client_id: post.clientId }),
      // The right secret by a method the client is not configured for.
      await cc({ client_id: basic.clientId, client_secret: basic.clientSecret }),
      // A client that authenticates by private_key_jwt, tried with a secret.
      await cc({ client_id: signer.clientId, client_secret: signer.clientSecret }),
      // private_key_jwt for a client that has no key, and for one that does not exist.
      await exchange(await assertion({}, post.clientId)),
      await exchange(await assertion({}, 'no-such-client')),
      await exchange('not-a-jwt'),
    ];
    for (const res of failures) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(FAILED);
      expect(res.headers['www-authenticate']).toBeUndefined();
    }
    const viaBasic = [
      await cc({}, basicAuth('no-such-client', 'x')),
      await cc({}, basicAuth(basic.clientId, 'wrong')),
      await cc({}, basicAuth(post.clientId, post.clientSecret)),
      await cc({}, { authorization: 'Basic !!!' }),
    ];
    for (const res of viaBasic) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(FAILED);
      expect(res.headers['www-authenticate']).toBe('Basic realm="oauth", error="invalid_client"');
    }
  });

  it('keeps which check failed in the logs', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logged = await buildApp(t.deps, { logger: { level: 'info', stream } });
    try {
      const res = await exchange(await assertion({ aud: [TEST_ISSUER] }), logged);
      expect(res.json()).toEqual(FAILED);
    } finally {
      await logged.close();
    }
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'token endpoint refusal',
        error: 'invalid_client',
        detail: `private_key_jwt: ${signer.clientId}: aud must be the issuer identifier as a single string`,
      }),
    );
  });
});
