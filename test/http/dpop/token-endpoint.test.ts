import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { dpopKey, type DpopKey } from '../../helpers/dpop.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { jwtPayload } from '../../helpers/http.js';

const TOKEN_URL = `${TEST_ISSUER}oauth/token`;

describe.each(testBackends())('DPoP at /oauth/token on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  let confidential: Client;
  let publicClient: Client;
  let apiId: string;
  let key: DpopKey;
  const now = () => Math.floor(t.clock.now() / 1000);

  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
    confidential = await make.client({ grantTypes: ['client_credentials', 'password', 'refresh_token'] });
    publicClient = await make.client({
      appType: 'native',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['password', 'refresh_token'],
    });
    await make.enableConnection(confidential.clientId);
    await make.enableConnection(publicClient.clientId);
    apiId = (await make.api({ scopes: [{ value: 'read:a' }], allowOfflineAccess: true })).identifier;
    await make.grant({ clientId: confidential.clientId, audience: apiId, scope: ['read:a'] });
    await make.user({ email: 'dpop@example.com' });
    key = await dpopKey(now);
  });
  afterAll(async () => {
    await t.close();
  });

  const token = (body: Record<string, string>, proof?: string | string[]) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: body,
      headers: proof === undefined ? {} : { dpop: proof },
    });
  const cc = (extra: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    client_id: confidential.clientId,
    client_secret: confidential.clientSecret,
    audience: apiId,
    ...extra,
  });
  const pw = (client: Client, extra: Record<string, string> = {}) => ({
    grant_type: 'password',
    client_id: client.clientId,
    ...(client.tokenEndpointAuthMethod !== 'none' ? { client_secret: client.clientSecret } : {}),
    username: 'dpop@example.com',
    password: 'Pass-word-123',
    audience: apiId,
    scope: 'openid read:a offline_access',
    ...extra,
  });

  it('binds a client-credentials token to the proof key (token_type DPoP, cnf.jkt) and sends DPoP-Nonce', async () => {
    const res = await token(cc(), await key.proof('POST', TOKEN_URL));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      access_token: expect.any(String),
      token_type: 'DPoP',
      expires_in: 86400,
      scope: 'read:a',
    });
    expect(jwtPayload(res.json<{ access_token: string }>().access_token)['cnf']).toEqual({ jkt: key.jkt });
    expect(res.headers['dpop-nonce']).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{32}$/));
  });

  it('issues a Bearer token without a proof, and sends no DPoP-Nonce', async () => {
    const res = await token(cc());
    expect(res.statusCode).toBe(200);
    expect(res.json<{ token_type: string }>().token_type).toBe('Bearer');
    expect(jwtPayload(res.json<{ access_token: string }>().access_token)['cnf']).toBeUndefined();
    expect(res.headers['dpop-nonce']).toBeUndefined();
  });

  it.each<[string, { url?: string; method?: string; iat?: number }, string]>([
    ['a wrong htu', { url: `${TEST_ISSUER}oauth/revoke` }, 'DPoP proof htu does not match the request URL'],
    ['a wrong htm', { method: 'GET' }, 'DPoP proof htm does not match the request method'],
    ['a stale iat', { iat: -120 }, 'DPoP proof iat is outside the accepted window'],
  ])('refuses a proof with %s: 400 invalid_dpop_proof', async (_name, over, description) => {
    const proof = await key.proof(over.method ?? 'POST', over.url ?? TOKEN_URL, {
      ...(over.iat !== undefined ? { iat: now() + over.iat } : {}),
    });
    const res = await token(cc(), proof);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_dpop_proof', error_description: description });
    expect(res.headers['dpop-nonce']).toEqual(expect.any(String));
  });

  it('refuses a replayed proof', async () => {
    const proof = await key.proof('POST', TOKEN_URL);
    expect((await token(cc(), proof)).statusCode).toBe(200);
    const again = await token(cc(), proof);
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'DPoP proof jti was already used',
    });
  });

  it('refuses two DPoP headers', async () => {
    const res = await token(cc(), [await key.proof('POST', TOKEN_URL), await key.proof('POST', TOKEN_URL)]);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'Exactly one DPoP header is allowed',
    });
  });

  it('asks a public client for a server nonce (use_dpop_nonce), then issues with it', async () => {
    const first = await token(pw(publicClient), await key.proof('POST', TOKEN_URL));
    expect(first.statusCode).toBe(400);
    expect(first.json()).toEqual({
      error: 'use_dpop_nonce',
      error_description: 'Authorization server requires nonce in DPoP proof',
    });
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const res = await token(pw(publicClient), await key.proof('POST', TOKEN_URL, { nonce }));
    expect(res.statusCode).toBe(200);
    const body = res.json<{ access_token: string; token_type: string; refresh_token: string }>();
    expect(body.token_type).toBe('DPoP');
    expect(jwtPayload(body.access_token)['cnf']).toEqual({ jkt: key.jkt });
    expect(res.headers['dpop-nonce']).toBe(nonce);
  });

  it("binds a public client's refresh token to the key: its refresh needs a proof by that key", async () => {
    const nonce = t.deps.dpopNonces.current();
    const issued = await token(pw(publicClient), await key.proof('POST', TOKEN_URL, { nonce }));
    const refreshToken = issued.json<{ refresh_token: string }>().refresh_token;
    expect(refreshToken).toEqual(expect.any(String));
    const refresh = {
      grant_type: 'refresh_token',
      client_id: publicClient.clientId,
      refresh_token: refreshToken,
    };

    const bare = await token(refresh);
    expect(bare.statusCode).toBe(400);
    expect(bare.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'The refresh token is bound to a DPoP key: send a DPoP proof signed by it',
    });
    const other = await dpopKey(now);
    const wrong = await token(refresh, await other.proof('POST', TOKEN_URL, { nonce }));
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'DPoP proof key does not match the key the refresh token is bound to',
    });
    const good = await token(refresh, await key.proof('POST', TOKEN_URL, { nonce }));
    expect(good.statusCode).toBe(200);
    const body = good.json<{ access_token: string; token_type: string; refresh_token: string }>();
    expect(body.token_type).toBe('DPoP');
    expect(jwtPayload(body.access_token)['cnf']).toEqual({ jkt: key.jkt });
    // The rotated token is bound too.
    const next = await token(
      { ...refresh, refresh_token: body.refresh_token },
      await other.proof('POST', TOKEN_URL, { nonce }),
    );
    expect(next.statusCode).toBe(400);
  });

  it("leaves a confidential client's refresh token unbound (it authenticates) while its access token is bound", async () => {
    const issued = await token(pw(confidential), await key.proof('POST', TOKEN_URL));
    expect(issued.statusCode).toBe(200);
    const body = issued.json<{ refresh_token: string; token_type: string }>();
    expect(body.token_type).toBe('DPoP');
    const res = await token({
      grant_type: 'refresh_token',
      client_id: confidential.clientId,
      client_secret: confidential.clientSecret,
      refresh_token: body.refresh_token,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ token_type: string }>().token_type).toBe('Bearer');
  });

  it('issues to a client with require_proof_of_possession only with a proof', async () => {
    const strict = await make.client({
      grantTypes: ['client_credentials'],
      settings: { require_proof_of_possession: true },
    });
    await make.grant({ clientId: strict.clientId, audience: apiId, scope: ['read:a'] });
    const body = { ...cc(), client_id: strict.clientId, client_secret: strict.clientSecret };
    const bare = await token(body);
    expect(bare.statusCode).toBe(400);
    expect(bare.json()).toEqual({
      error: 'invalid_request',
      error_description:
        'This client requires sender-constrained tokens (require_proof_of_possession): send a DPoP proof.',
    });
    const res = await token(body, await key.proof('POST', TOKEN_URL));
    expect(res.statusCode).toBe(200);
    expect(res.json<{ token_type: string }>().token_type).toBe('DPoP');
  });

  it('issues for an API requiring DPoP only with a proof; mTLS stays refused', async () => {
    const strictApi = await make.api({
      scopes: [{ value: 'read:a' }],
      extra: { proof_of_possession: { mechanism: 'dpop', required: true } },
    });
    const mtlsApi = await make.api({
      scopes: [{ value: 'read:a' }],
      extra: { proof_of_possession: { mechanism: 'mtls', required: true } },
    });
    for (const a of [strictApi, mtlsApi]) {
      await make.grant({ clientId: confidential.clientId, audience: a.identifier, scope: ['read:a'] });
    }
    const bare = await token(cc({ audience: strictApi.identifier }));
    expect(bare.statusCode).toBe(400);
    expect(bare.json()).toEqual({
      error: 'invalid_request',
      error_description: `The API "${strictApi.identifier}" requires DPoP-bound tokens: send a DPoP proof.`,
    });
    const ok = await token(cc({ audience: strictApi.identifier }), await key.proof('POST', TOKEN_URL));
    expect(ok.statusCode).toBe(200);
    expect(ok.json<{ token_type: string }>().token_type).toBe('DPoP');
    // A password grant for the same API without a proof is refused as well.
    const user = await token(pw(confidential, { audience: strictApi.identifier, scope: 'openid' }));
    expect(user.statusCode).toBe(400);
    expect(user.json<{ error: string }>().error).toBe('invalid_request');
    const mtls = await token(cc({ audience: mtlsApi.identifier }), await key.proof('POST', TOKEN_URL));
    expect(mtls.statusCode).toBe(400);
    expect(mtls.json()).toEqual({
      error: 'invalid_request',
      error_description: `The API "${mtlsApi.identifier}" requires sender-constrained tokens (mtls), which this server does not issue.`,
    });
  });

  it('lists the proof algorithms in discovery', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(res.json<Record<string, unknown>>()['dpop_signing_alg_values_supported']).toEqual([
      'ES256',
      'ES384',
      'ES512',
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
      'EdDSA',
      'Ed25519',
    ]);
  });
});
