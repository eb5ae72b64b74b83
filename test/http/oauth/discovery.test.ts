import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, MGMT_AUDIENCE, TEST_ISSUER, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories } from '../../helpers/factories.js';
import { clientCredentials } from '../../helpers/http.js';

describe.each(testBackends())('discovery and JWKS on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('publishes the OpenID configuration with iss equal to the configured issuer', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<Record<string, unknown>>();
    expect(doc).toMatchObject({
      issuer: TEST_ISSUER,
      token_endpoint: `${TEST_ISSUER}oauth/token`,
      jwks_uri: `${TEST_ISSUER}.well-known/jwks.json`,
      authorization_endpoint: `${TEST_ISSUER}authorize`,
      userinfo_endpoint: `${TEST_ISSUER}userinfo`,
      revocation_endpoint: `${TEST_ISSUER}oauth/revoke`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      subject_types_supported: ['public'],
      request_parameter_supported: false,
    });
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
