import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { authorize, CookieJar, loginThroughPage, pkcePair } from '../../helpers/authorize.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { dpopKey, type DpopKey } from '../../helpers/dpop.js';
import { createFactories } from '../../helpers/factories.js';
import { form, jwtPayload } from '../../helpers/http.js';

const CALLBACK = 'https://spa.example.com/callback';
const TOKEN_URL = `${TEST_ISSUER}oauth/token`;

// RFC 9449 §10: `dpop_jkt` at /authorize binds the code to a key, as auth0-spa-js sends it with useDpop.
describe.each(testBackends())('dpop_jkt at /authorize on $name', (backend) => {
  let t: TestApp;
  let spa: Client;
  let key: DpopKey;
  const now = () => Math.floor(t.clock.now() / 1000);

  beforeAll(async () => {
    t = await buildTestApp(backend);
    const make = createFactories(t.deps);
    spa = await make.client({
      appType: 'spa',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      settings: { callbacks: [CALLBACK] },
    });
    await make.enableConnection(spa.clientId);
    await make.user({ email: 'jkt@example.com' });
    key = await dpopKey(now);
  });
  afterAll(async () => {
    await t.close();
  });

  /** The browser leg with `dpop_jkt`; returns the code and its PKCE verifier. */
  const codeFor = async (jkt: string) => {
    const jar = new CookieJar();
    const { verifier, challenge } = pkcePair();
    const start = await authorize(
      t.app,
      {
        client_id: spa.clientId,
        redirect_uri: CALLBACK,
        response_type: 'code',
        scope: 'openid offline_access',
        state: 's',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        dpop_jkt: jkt,
      },
      jar,
    );
    expect(start.statusCode).toBe(302);
    const { result } = await loginThroughPage(t.app, String(start.headers['location']), jar, {
      username: 'jkt@example.com',
      password: 'Pass-word-123',
    });
    expect(result.statusCode).toBe(302);
    const code = new URL(String(result.headers['location'])).searchParams.get('code') ?? '';
    return { code, verifier };
  };
  const exchange = (code: string, verifier: string, proof?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'authorization_code',
        client_id: spa.clientId,
        redirect_uri: CALLBACK,
        code,
        code_verifier: verifier,
      }),
      ...(proof !== undefined
        ? { headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof } }
        : {}),
    });

  it('exchanges the code only with a proof by the named key', async () => {
    const nonce = t.deps.dpopNonces.current();
    const { code, verifier } = await codeFor(key.jkt);
    const res = await exchange(code, verifier, await key.proof('POST', TOKEN_URL, { nonce }));
    expect(res.statusCode).toBe(200);
    const body = res.json<{ access_token: string; token_type: string; refresh_token: string }>();
    expect(body.token_type).toBe('DPoP');
    expect(jwtPayload(body.access_token)['cnf']).toEqual({ jkt: key.jkt });
    expect(body.refresh_token).toEqual(expect.any(String));
  });

  it('refuses the exchange without a proof, or with another key', async () => {
    const nonce = t.deps.dpopNonces.current();
    const first = await codeFor(key.jkt);
    const bare = await exchange(first.code, first.verifier);
    expect(bare.statusCode).toBe(400);
    expect(bare.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description:
        'The authorization code is bound to a DPoP key (dpop_jkt): send a DPoP proof signed by it',
    });
    const second = await codeFor(key.jkt);
    const other = await dpopKey(now);
    const wrong = await exchange(
      second.code,
      second.verifier,
      await other.proof('POST', TOKEN_URL, { nonce }),
    );
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'DPoP proof key does not match the dpop_jkt of the authorization request',
    });
  });

  it('refuses a dpop_jkt that is not a thumbprint, at the redirect URI', async () => {
    const res = await authorize(
      t.app,
      {
        client_id: spa.clientId,
        redirect_uri: CALLBACK,
        response_type: 'code',
        state: 's',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
        dpop_jkt: 'x',
      },
      new CookieJar(),
    );
    expect(res.statusCode).toBe(302);
    const params = Object.fromEntries(new URL(String(res.headers['location'])).searchParams);
    expect(params).toEqual({
      error: 'invalid_request',
      error_description: 'Invalid parameter: dpop_jkt must be a base64url SHA-256 JWK thumbprint',
      state: 's',
    });
  });
});
