import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { selfDescription } from '../../../src/meta/plugin.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { clientCredentials, form, jwtPayload } from '../../helpers/http.js';

describe.each(testBackends())('discovery and JWKS on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('publishes exactly what the server serves and does (RFC 8414 §2, OIDC Discovery §3)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.json()).toEqual({
      issuer: TEST_ISSUER,
      jwks_uri: `${TEST_ISSUER}.well-known/jwks.json`,
      userinfo_endpoint: `${TEST_ISSUER}userinfo`,
      revocation_endpoint: `${TEST_ISSUER}oauth/revoke`,
      token_endpoint: `${TEST_ISSUER}oauth/token`,
      authorization_endpoint: `${TEST_ISSUER}authorize`,
      end_session_endpoint: `${TEST_ISSUER}oidc/logout`,
      dpop_signing_alg_values_supported: [
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
      ],
      claims_supported: [
        'sub',
        'name',
        'nickname',
        'given_name',
        'family_name',
        'picture',
        'updated_at',
        'email',
        'email_verified',
        'phone_number',
        'phone_number_verified',
        'aud',
        'exp',
        'iat',
        'iss',
        'auth_time',
        'nonce',
        'sid',
        'amr',
        'acr',
      ],
      code_challenge_methods_supported: ['S256'],
      acr_values_supported: ['http://schemas.openid.net/pape/policies/2007/06/multi-factor'],
      grant_types_supported: [
        'authorization_code',
        'client_credentials',
        'password',
        'http://auth0.com/oauth/grant-type/password-realm',
        'refresh_token',
        'urn:okta:params:oauth:grant-type:webauthn',
        'http://auth0.com/oauth/grant-type/mfa-otp',
        'http://auth0.com/oauth/grant-type/mfa-oob',
        'http://auth0.com/oauth/grant-type/mfa-recovery-code',
        'implicit',
      ],
      id_token_signing_alg_values_supported: ['HS256', 'RS256', 'RS512', 'PS256'],
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      response_modes_supported: ['query', 'fragment', 'form_post', 'web_message'],
      response_types_supported: [
        'code',
        'token',
        'id_token',
        'code token',
        'code id_token',
        'token id_token',
        'code token id_token',
      ],
      revocation_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'none',
      ],
      revocation_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'PS256'],
      scopes_supported: ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'],
      subject_types_supported: ['public'],
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'none',
      ],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'PS256'],
    });
  });

  it('advertises no URL that answers 404 or 405', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json<
      Record<string, unknown>
    >();
    const methods: Record<string, 'GET' | 'POST'> = {
      jwks_uri: 'GET',
      userinfo_endpoint: 'GET',
      token_endpoint: 'POST',
      revocation_endpoint: 'POST',
      authorization_endpoint: 'GET',
      end_session_endpoint: 'GET',
    };
    const urls = Object.entries(doc).filter(([key]) => key.endsWith('_endpoint') || key.endsWith('_uri'));
    expect(urls.map(([key]) => key).sort()).toEqual(Object.keys(methods).sort());
    for (const [key, url] of urls) {
      const path = String(url).slice(TEST_ISSUER.length - 1);
      const res = await t.app.inject({ method: methods[key] ?? 'GET', url: path });
      expect([404, 405], `${key} ${path} answers ${res.statusCode}`).not.toContain(res.statusCode);
    }
  });

  it('lists every claim an ID token or userinfo response carries', async () => {
    const make = createFactories(t.deps);
    const client = await make.client({
      grantTypes: ['password'],
      settings: { jwt_configuration: { alg: 'RS256' } },
    });
    await make.enableConnection(client.clientId);
    const user = await make.user({ phoneNumber: '+15555550100', phoneVerified: true });
    const tokens = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({
        grant_type: 'password',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        username: user.email ?? '',
        password: 'Pass-word-123',
        scope: 'openid profile email phone address',
      }),
    });
    expect(tokens.statusCode).toBe(200);
    const { access_token, id_token } = tokens.json<{ access_token: string; id_token: string }>();
    const info = await t.app.inject({
      method: 'GET',
      url: '/userinfo',
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(info.statusCode).toBe(200);
    // The browser flow's ID tokens add these three (test/http/oauth/authorize.test.ts checks them).
    // amr and acr come with a second factor (test/http/pages/mfa.test.ts).
    const codeFlow = ['auth_time', 'nonce', 'sid', 'amr', 'acr'];
    const released = [...Object.keys(jwtPayload(id_token)), ...Object.keys(info.json<object>()), ...codeFlow];
    const doc = (await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json<{
      claims_supported: string[];
    }>();
    expect([...new Set(released)].sort()).toEqual([...doc.claims_supported].sort());
  });

  it('grows with each route registered with a discovery entry, in one place', async () => {
    const app = Fastify();
    await app.register(selfDescription, { issuer: TEST_ISSUER });
    app.get(
      '/authorize',
      {
        config: {
          discovery: {
            endpoint: 'authorization_endpoint',
            metadata: { response_types_supported: ['code'], scopes_supported: ['openid'] },
          },
        },
      },
      async () => 'ok',
    );
    app.post(
      '/oauth/token',
      {
        config: {
          discovery: { endpoint: 'token_endpoint', metadata: { scopes_supported: ['openid', 'email'] } },
        },
      },
      async () => 'ok',
    );
    app.get('/.well-known/openid-configuration', async () => app.discoveryDocument());
    const res = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(res.json()).toEqual({
      issuer: TEST_ISSUER,
      authorization_endpoint: `${TEST_ISSUER}authorize`,
      token_endpoint: `${TEST_ISSUER}oauth/token`,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      response_modes_supported: [],
      response_types_supported: ['code'],
      scopes_supported: ['openid', 'email'],
      subject_types_supported: ['public'],
    });
    await app.close();
  });

  it('publishes the current and next RS256 keys in Auth0 shape', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    const { keys } = res.json<{ keys: Record<string, unknown>[] }>();
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use', 'x5c', 'x5t']);
      expect(key).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' });
      expect(key['x5c']).toEqual([expect.stringMatching(/^[A-Za-z0-9+/]+=*$/)]);
    }
    expect(keys[0]?.['kid']).not.toEqual(keys[1]?.['kid']);
  });

  it('signs tokens that verify against the published JWKS with the first (current) key', async () => {
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
      keys: { kid: string }[];
    }>();
    const token = await t.managementToken();
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
      issuer: TEST_ISSUER,
      audience: MGMT_AUDIENCE,
    });
    expect(protectedHeader.kid).toBe(jwks.keys[0]?.kid);
    expect(payload.iss).toBe(TEST_ISSUER);
  });

  it.each(['PS256', 'RS512'] as const)(
    'publishes keys without alg under the remove_alg_from_jwks flag, so %s tokens verify with jose',
    async (alg) => {
      const make = createFactories(t.deps);
      const api = await make.api({ signingAlg: alg });
      const client = await make.client();
      await make.grant({ clientId: client.clientId, audience: api.identifier, scope: ['read:things'] });
      const issued = await clientCredentials(t.app, client, api.identifier);
      expect(issued.statusCode).toBe(200);
      const token = issued.json<{ access_token: string }>().access_token;
      const jwks = async () =>
        createLocalJWKSet((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json());
      // Auth0's default shape pins alg: RS256, which strict verifiers refuse for other algorithms.
      await expect(jwtVerify(token, await jwks(), { issuer: TEST_ISSUER })).rejects.toThrow(
        /no applicable key/,
      );
      const mgmt = await t.managementToken();
      const patch = async (flag: boolean) =>
        t.app.inject({
          method: 'PATCH',
          url: '/api/v2/tenants/settings',
          headers: { authorization: `Bearer ${mgmt}` },
          payload: { flags: { remove_alg_from_jwks: flag } },
        });
      expect((await patch(true)).statusCode).toBe(200);
      try {
        const { keys } = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
          keys: Record<string, unknown>[];
        }>();
        expect(keys.map((k) => Object.keys(k).sort())).toEqual([
          ['e', 'kid', 'kty', 'n', 'use', 'x5c', 'x5t'],
          ['e', 'kid', 'kty', 'n', 'use', 'x5c', 'x5t'],
        ]);
        const { payload, protectedHeader } = await jwtVerify(token, await jwks(), {
          issuer: TEST_ISSUER,
          audience: api.identifier,
          algorithms: [alg],
        });
        expect(protectedHeader.alg).toBe(alg);
        expect(payload.sub).toBe(`${client.clientId}@clients`);
      } finally {
        expect((await patch(false)).statusCode).toBe(200);
      }
    },
  );
});
