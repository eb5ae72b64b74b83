import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../../src/domain/client.js';
import type { ResourceServer } from '../../../src/domain/resource-server.js';
import { testBackends } from '../../helpers/backends.js';
import { buildTestApp, type TestApp } from '../../helpers/build-test-app.js';
import { createFactories, type Factories } from '../../helpers/factories.js';
import { api, clientCredentials } from '../../helpers/http.js';

const CLIENT_POP = {
  error: 'invalid_request',
  error_description:
    'This client requires sender-constrained tokens (require_proof_of_possession): send a DPoP proof.',
};
const apiPop = (api: ResourceServer, mechanism = 'dpop') => ({
  error: 'invalid_request',
  error_description:
    mechanism === 'dpop'
      ? `The API "${api.identifier}" requires DPoP-bound tokens: send a DPoP proof.`
      : `The API "${api.identifier}" requires sender-constrained tokens (${mechanism}), which this server does not issue.`,
});

// Issue 9: a stored setting that demands more than a Bearer token refuses a token request without a DPoP proof
// (issue 12: test/http/dpop covers the same settings with proofs).
describe.each(testBackends())('settings that demand more than a Bearer token on $name', (backend) => {
  let t: TestApp;
  let make: Factories;
  beforeAll(async () => {
    t = await buildTestApp(backend);
    make = createFactories(t.deps);
  });
  afterAll(async () => {
    await t.close();
  });

  const m2m = async (over: Partial<Client> = {}) =>
    make.client({ grantTypes: ['client_credentials'], ...over });
  const granted = async (client: Client, api: ResourceServer, over: object = {}) =>
    make.grant({ clientId: client.clientId, audience: api.identifier, scope: ['read:things'], ...over });
  const loginApp = async (over: Partial<Client> = {}) => {
    const client = await make.client({ grantTypes: ['password', 'refresh_token'], ...over });
    await make.enableConnection(client.clientId);
    return client;
  };
  const login = async (client: Client, audience: string | undefined, scope = 'openid offline_access') => {
    const user = await make.user();
    return t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'password',
        client_id: client.clientId,
        ...(client.tokenEndpointAuthMethod === 'none' ? {} : { client_secret: client.clientSecret }),
        username: user.email ?? '',
        password: 'Pass-word-123',
        ...(audience !== undefined ? { audience } : {}),
        scope,
      },
    });
  };

  describe('require_proof_of_possession on the client', () => {
    it('refuses every token request of the client with 400 invalid_request', async () => {
      const rs = await make.api();
      const client = await m2m({ settings: { require_proof_of_possession: true } });
      await granted(client, rs);
      const cc = await clientCredentials(t.app, client, rs.identifier);
      expect(cc.statusCode).toBe(400);
      expect(cc.json()).toEqual(CLIENT_POP);
      const app = await loginApp({ settings: { require_proof_of_possession: true } });
      // Auth0 issues nothing, even for /userinfo alone.
      const userinfoOnly = await login(app, undefined);
      expect(userinfoOnly.statusCode).toBe(400);
      expect(userinfoOnly.json()).toEqual(CLIENT_POP);
    });

    it('issues as before when the setting is off', async () => {
      const rs = await make.api();
      const client = await m2m({ settings: { require_proof_of_possession: false } });
      await granted(client, rs);
      expect((await clientCredentials(t.app, client, rs.identifier)).statusCode).toBe(200);
    });
  });

  describe('proof_of_possession on the API', () => {
    it('required (for all clients) refuses client credentials and user tokens for the API', async () => {
      const rs = await make.api({ extra: { proof_of_possession: { mechanism: 'dpop', required: true } } });
      const client = await m2m();
      await granted(client, rs);
      const cc = await clientCredentials(t.app, client, rs.identifier);
      expect(cc.statusCode).toBe(400);
      expect(cc.json()).toEqual(apiPop(rs));
      const app = await loginApp();
      const user = await login(app, rs.identifier, 'read:things');
      expect(user.statusCode).toBe(400);
      expect(user.json()).toEqual(apiPop(rs));
      // Tokens for userinfo alone do not involve the API.
      expect((await login(app, undefined, 'openid')).statusCode).toBe(200);
    });

    it('required for public clients refuses public clients only', async () => {
      const rs = await make.api({
        extra: { proof_of_possession: { mechanism: 'dpop', required: true, required_for: 'public_clients' } },
      });
      const confidential = await loginApp();
      expect((await login(confidential, rs.identifier, 'read:things')).statusCode).toBe(200);
      const native = await loginApp({ appType: 'native', tokenEndpointAuthMethod: 'none' });
      const refused = await login(native, rs.identifier, 'read:things');
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual(apiPop(rs));
    });

    it('mTLS required is refused the same way; a mechanism that is only allowed still yields Bearer tokens', async () => {
      const mtls = await make.api({ extra: { proof_of_possession: { mechanism: 'mtls', required: true } } });
      const allowed = await make.api({
        extra: { proof_of_possession: { mechanism: 'dpop', required: false } },
      });
      const client = await m2m();
      await granted(client, mtls);
      await granted(client, allowed);
      expect((await clientCredentials(t.app, client, mtls.identifier)).json()).toEqual(apiPop(mtls, 'mtls'));
      const ok = await clientCredentials(t.app, client, allowed.identifier);
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ token_type: 'Bearer' });
    });

    it('set through the Management API, it stops refresh-token exchanges for the API too', async () => {
      const rs = await make.api({ allowOfflineAccess: true });
      const app = await loginApp();
      const first = await login(app, rs.identifier, 'offline_access read:things');
      expect(first.statusCode).toBe(200);
      const patched = await api(t.app, {
        method: 'PATCH',
        url: `/api/v2/resource-servers/${rs.id}`,
        token: await t.managementToken(),
        body: { proof_of_possession: { mechanism: 'dpop', required: true } },
      });
      expect(patched.statusCode).toBe(200);
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'refresh_token',
          client_id: app.clientId,
          client_secret: app.clientSecret,
          refresh_token: first.json<{ refresh_token: string }>().refresh_token,
        },
      });
      expect(refreshed.statusCode).toBe(400);
      expect(refreshed.json()).toEqual(apiPop(rs));
    });
  });

  describe('organization_usage "require" on the client grant', () => {
    it('refuses client credentials: 400 without an organization, 403 with one (no organizations here yet)', async () => {
      const rs = await make.api();
      const client = await m2m();
      await granted(client, rs, { organizationUsage: 'require' });
      const missing = await clientCredentials(t.app, client, rs.identifier);
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toEqual({
        error: 'invalid_request',
        error_description: `Missing required parameter: organization (the client grant for "${rs.identifier}" requires one)`,
      });
      const named = await clientCredentials(t.app, client, rs.identifier, { organization: 'org_abc' });
      expect(named.statusCode).toBe(403);
      expect(named.json()).toEqual({
        error: 'access_denied',
        error_description: `The client grant for "${rs.identifier}" requires an organization, and this server does not support organizations yet.`,
      });
    });

    it('leaves "allow" and "deny" grants issuing as before', async () => {
      const rs = await make.api();
      for (const usage of ['allow', 'deny'] as const) {
        const client = await m2m();
        await granted(client, rs, { organizationUsage: usage });
        expect((await clientCredentials(t.app, client, rs.identifier)).statusCode).toBe(200);
      }
    });
  });
});
