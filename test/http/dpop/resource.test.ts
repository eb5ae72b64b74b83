import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../src/domain/user.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { dpopKey, type DpopKey } from '../../helpers/dpop.js';
import { form } from '../../helpers/http.js';
import { ME_AUDIENCE, myAccountFixture, type MyAccountFixture } from '../../helpers/myaccount.js';

const TOKEN_URL = `${TEST_ISSUER}oauth/token`;
const CHALLENGE_ALGS = 'DPoP algs="ES256 ES384 ES512 RS256 RS384 RS512 PS256 PS384 PS512 EdDSA Ed25519"';
const challenge = (error: string, description: string) =>
  `${CHALLENGE_ALGS}, error="${error}", error_description="${description}"`;

describe.each(testBackends())('DPoP-bound tokens at /userinfo, /me/v1 and /api/v2 on $name', (backend) => {
  let t: TestApp;
  let fx: MyAccountFixture;
  let user: User;
  let key: DpopKey;
  let meId: string;
  const now = () => Math.floor(t.clock.now() / 1000);

  beforeAll(async () => {
    t = await buildTestApp(backend);
    fx = await myAccountFixture(t);
    meId = await fx.activate();
    user = await fx.make.user({ email: 'dpop-rs@example.com' });
    key = await dpopKey(now);
  });
  afterAll(async () => {
    await t.close();
  });

  /** A user token for the My Account API (with the userinfo audience), bound to `k` when given. */
  const userToken = async (k?: DpopKey) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        client_id: fx.client.clientId,
        client_secret: fx.client.clientSecret,
        username: user.email ?? '',
        password: 'Pass-word-123',
        audience: ME_AUDIENCE,
        scope: 'openid read:me:authentication_methods',
      }),
      ...(k
        ? {
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              dpop: await k.proof('POST', TOKEN_URL),
            },
          }
        : {}),
    });
    expect(res.statusCode).toBe(200);
    return res.json<{ access_token: string; token_type: string }>();
  };
  const call = (method: 'GET' | 'PATCH', path: string, headers: Record<string, string>, body?: object) =>
    t.app.inject({ method, url: path, headers, ...(body ? { payload: body } : {}) });
  const withProof = async (
    method: string,
    path: string,
    token: string,
    k = key,
    over: { iat?: number } = {},
  ) => ({
    authorization: `DPoP ${token}`,
    dpop: await k.proof(method, `${TEST_ISSUER}${path.slice(1).split('?')[0] ?? ''}`, {
      accessToken: token,
      ...(over.iat !== undefined ? { iat: over.iat } : {}),
    }),
  });

  it('/userinfo answers a DPoP token with its proof, and refuses it as Bearer', async () => {
    const { access_token: token, token_type } = await userToken(key);
    expect(token_type).toBe('DPoP');
    const ok = await call('GET', '/userinfo', await withProof('GET', '/userinfo', token));
    expect(ok.statusCode).toBe(200);
    expect(ok.json<{ sub: string }>().sub).toBe(user.userId);

    const bearer = await call('GET', '/userinfo', { authorization: `Bearer ${token}` });
    expect(bearer.statusCode).toBe(401);
    expect(bearer.json()).toEqual({
      error: 'invalid_token',
      error_description: 'A DPoP-bound token must be presented with the DPoP scheme and a proof',
    });
    expect(bearer.headers['www-authenticate']).toBe(
      challenge('invalid_token', 'A DPoP-bound token must be presented with the DPoP scheme and a proof'),
    );
  });

  it('refuses every bad proof at /userinfo with invalid_dpop_proof', async () => {
    const { access_token: token } = await userToken(key);
    const other = await dpopKey(now);
    const cases: [string, Record<string, string>, string][] = [
      [
        'wrong htu',
        {
          authorization: `DPoP ${token}`,
          dpop: await key.proof('GET', `${TEST_ISSUER}me/v1/factors`, { accessToken: token }),
        },
        'DPoP proof htu does not match the request URL',
      ],
      [
        'wrong htm',
        {
          authorization: `DPoP ${token}`,
          dpop: await key.proof('POST', `${TEST_ISSUER}userinfo`, { accessToken: token }),
        },
        'DPoP proof htm does not match the request method',
      ],
      [
        'missing ath',
        { authorization: `DPoP ${token}`, dpop: await key.proof('GET', `${TEST_ISSUER}userinfo`) },
        'DPoP proof ath is missing',
      ],
      [
        'stale iat',
        await withProof('GET', '/userinfo', token, key, { iat: now() - 300 }),
        'DPoP proof iat is outside the accepted window',
      ],
      [
        'another key than cnf.jkt',
        await withProof('GET', '/userinfo', token, other),
        'DPoP proof key does not match the key the token is bound to',
      ],
      ['no proof', { authorization: `DPoP ${token}` }, 'Exactly one DPoP proof header is required'],
    ];
    for (const [name, headers, description] of cases) {
      const res = await call('GET', '/userinfo', headers);
      expect({ name, status: res.statusCode, body: res.json<unknown>() }).toEqual({
        name,
        status: 401,
        body: { error: 'invalid_dpop_proof', error_description: description },
      });
      expect(res.headers['www-authenticate']).toBe(challenge('invalid_dpop_proof', description));
    }
  });

  it('refuses a proof whose key does not fit its alg with invalid_dpop_proof, not a server error', async () => {
    const { access_token: token } = await userToken(key);
    const p384 = await generateKeyPair('ES384');
    const [, payload, signature] = (
      await key.proof('GET', `${TEST_ISSUER}userinfo`, { accessToken: token })
    ).split('.');
    const header = { alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(p384.publicKey) };
    const proof = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${payload ?? ''}.${signature ?? ''}`;
    const res = await call('GET', '/userinfo', { authorization: `DPoP ${token}`, dpop: proof });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'DPoP proof signature or key is invalid',
    });
  });

  it('refuses a replayed proof', async () => {
    const { access_token: token } = await userToken(key);
    const headers = await withProof('GET', '/userinfo', token);
    expect((await call('GET', '/userinfo', headers)).statusCode).toBe(200);
    const again = await call('GET', '/userinfo', headers);
    expect(again.statusCode).toBe(401);
    expect(again.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'DPoP proof jti was already used',
    });
  });

  it('refuses an unbound token under the DPoP scheme', async () => {
    const { access_token: token, token_type } = await userToken();
    expect(token_type).toBe('Bearer');
    const res = await call('GET', '/userinfo', await withProof('GET', '/userinfo', token));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The token is not bound to a DPoP key',
    });
  });

  it('/me/v1 answers a DPoP token with its proof; refuses it as Bearer in its problem shape', async () => {
    const { access_token: token } = await userToken(key);
    const path = '/me/v1/authentication-methods';
    const ok = await call('GET', path, await withProof('GET', path, token));
    expect(ok.statusCode).toBe(200);
    const bearer = await call('GET', path, { authorization: `Bearer ${token}` });
    expect(bearer.statusCode).toBe(401);
    expect(bearer.json<{ status: number; detail: string }>()).toMatchObject({
      status: 401,
      detail: 'A DPoP-bound token must be presented with the DPoP scheme and a proof',
    });
    expect(bearer.headers['www-authenticate']).toBe(
      challenge('invalid_token', 'A DPoP-bound token must be presented with the DPoP scheme and a proof'),
    );
  });

  it('the My Account API refuses Bearer tokens once its proof_of_possession requires DPoP, until reset with null', async () => {
    const bearer = (await userToken()).access_token;
    const path = '/me/v1/authentication-methods';
    expect((await call('GET', path, { authorization: `Bearer ${bearer}` })).statusCode).toBe(200);
    const mgmt = await t.managementToken();
    const patch = (pop: object | null) =>
      call(
        'PATCH',
        `/api/v2/resource-servers/${meId}`,
        { authorization: `Bearer ${mgmt}` },
        { proof_of_possession: pop },
      );
    const set = await patch({ mechanism: 'dpop', required: true });
    expect(set.statusCode).toBe(200);
    expect(set.json<{ proof_of_possession: unknown }>().proof_of_possession).toEqual({
      mechanism: 'dpop',
      required: true,
    });

    const refused = await call('GET', path, { authorization: `Bearer ${bearer}` });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(
      challenge('invalid_token', 'This API requires DPoP-bound tokens'),
    );
    // No new Bearer token for it either.
    const noToken = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        client_id: fx.client.clientId,
        client_secret: fx.client.clientSecret,
        username: user.email ?? '',
        password: 'Pass-word-123',
        audience: ME_AUDIENCE,
        scope: 'openid read:me:authentication_methods',
      }),
    });
    expect(noToken.statusCode).toBe(400);
    expect(noToken.json()).toEqual({
      error: 'invalid_request',
      error_description: `The API "${ME_AUDIENCE}" requires DPoP-bound tokens: send a DPoP proof.`,
    });
    const bound = (await userToken(key)).access_token;
    expect((await call('GET', path, await withProof('GET', path, bound))).statusCode).toBe(200);

    const reset = await patch(null);
    expect(reset.statusCode).toBe(200);
    expect((await call('GET', path, { authorization: `Bearer ${bearer}` })).statusCode).toBe(200);
  });

  it('required_for "public_clients" refuses Bearer tokens of public clients only, at /me/v1 and the token endpoint; "all_clients" refuses every one', async () => {
    const path = '/me/v1/authentication-methods';
    const native = await fx.make.client({
      appType: 'native',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['password', 'refresh_token'],
    });
    await fx.make.enableConnection(native.clientId);
    await fx.make.grant({
      clientId: native.clientId,
      audience: ME_AUDIENCE,
      subjectType: 'user',
      scope: ['read:me:authentication_methods'],
    });
    const publicToken = (proof?: string) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(proof === undefined ? {} : { dpop: proof }),
        },
        payload: new URLSearchParams({
          grant_type: 'password',
          client_id: native.clientId,
          username: user.email ?? '',
          password: 'Pass-word-123',
          audience: ME_AUDIENCE,
          scope: 'openid read:me:authentication_methods',
        }).toString(),
      });
    // Issued before the API asked for DPoP.
    const issued = await publicToken();
    expect(issued.statusCode).toBe(200);
    const publicBearer = issued.json<{ access_token: string }>().access_token;
    const confidentialBearer = (await userToken()).access_token;
    const mgmt = await t.managementToken();
    const patch = (pop: object | null) =>
      call(
        'PATCH',
        `/api/v2/resource-servers/${meId}`,
        { authorization: `Bearer ${mgmt}` },
        { proof_of_possession: pop },
      );
    const get = (token: string) => call('GET', path, { authorization: `Bearer ${token}` });

    const set = await patch({ mechanism: 'dpop', required: true, required_for: 'public_clients' });
    expect(set.statusCode).toBe(200);
    expect(set.json<{ proof_of_possession: unknown }>().proof_of_possession).toEqual({
      mechanism: 'dpop',
      required: true,
      required_for: 'public_clients',
    });
    expect((await get(confidentialBearer)).statusCode).toBe(200);
    const refused = await get(publicBearer);
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(
      challenge('invalid_token', 'This API requires DPoP-bound tokens'),
    );
    // The token endpoint: a confidential client still gets a Bearer token, a public one only a DPoP-bound one.
    expect((await userToken()).token_type).toBe('Bearer');
    const noProof = await publicToken();
    expect(noProof.statusCode).toBe(400);
    expect(noProof.json()).toEqual({
      error: 'invalid_request',
      error_description: `The API "${ME_AUDIENCE}" requires DPoP-bound tokens: send a DPoP proof.`,
    });
    // Public clients prove with a server nonce (spec 1.8): the first proof gets one.
    const challenged = await publicToken(await key.proof('POST', TOKEN_URL));
    expect(challenged.json<{ error: string }>().error).toBe('use_dpop_nonce');
    const nonce = String(challenged.headers['dpop-nonce']);
    const bound = await publicToken(await key.proof('POST', TOKEN_URL, { nonce }));
    expect(bound.statusCode).toBe(200);
    const boundToken = bound.json<{ access_token: string; token_type: string }>();
    expect(boundToken.token_type).toBe('DPoP');
    expect((await call('GET', path, await withProof('GET', path, boundToken.access_token))).statusCode).toBe(
      200,
    );

    expect((await patch({ mechanism: 'dpop', required: true, required_for: 'all_clients' })).statusCode).toBe(
      200,
    );
    expect((await get(confidentialBearer)).statusCode).toBe(401);
    expect((await get(publicBearer)).statusCode).toBe(401);
    const badValue = await patch({ mechanism: 'dpop', required: true, required_for: 'some_clients' });
    expect(badValue.statusCode).toBe(400);

    expect((await patch(null)).statusCode).toBe(200);
    expect((await get(publicBearer)).statusCode).toBe(200);
  });

  it('/api/v2 answers a DPoP client-credentials token with its proof and refuses it as Bearer', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'client_credentials',
        client_id: 'bootstrap-client',
        client_secret: 'bootstrap-secret-0123456789abcdef',
        audience: MGMT_AUDIENCE,
        scope: 'read:clients',
      },
      headers: { dpop: await key.proof('POST', TOKEN_URL) },
    });
    expect(res.statusCode).toBe(200);
    const token = res.json<{ access_token: string; token_type: string }>();
    expect(token.token_type).toBe('DPoP');
    const path = '/api/v2/clients?fields=client_id';
    const ok = await call('GET', path, await withProof('GET', path, token.access_token));
    expect(ok.statusCode).toBe(200);
    const bearer = await call('GET', path, { authorization: `Bearer ${token.access_token}` });
    expect(bearer.statusCode).toBe(401);
    expect(bearer.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'A DPoP-bound token must be presented with the DPoP scheme and a proof',
      errorCode: 'invalid_token',
    });
    expect(bearer.headers['www-authenticate']).toBe(
      challenge('invalid_token', 'A DPoP-bound token must be presented with the DPoP scheme and a proof'),
    );
    const wrong = await call('GET', path, {
      authorization: `DPoP ${token.access_token}`,
      dpop: await key.proof('DELETE', `${TEST_ISSUER}api/v2/clients`, { accessToken: token.access_token }),
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe(
      challenge('invalid_dpop_proof', 'DPoP proof htm does not match the request method'),
    );
  });
});
