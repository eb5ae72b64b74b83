import { describe, expect, it } from 'vitest';
import type { ResourceServer } from '../../../src/domain/resource-server.js';
import { buildAccessToken } from '../../../src/oauth/tokens/access-token.js';

const api: ResourceServer = {
  tenantId: 'default',
  id: 'rs_1',
  identifier: 'https://api.example.com/',
  name: 'API',
  isSystem: false,
  scopes: [{ value: 'read:x' }],
  signingAlg: 'RS256',
  signingSecret: undefined,
  allowOfflineAccess: false,
  skipConsentForVerifiableFirstPartyClients: true,
  tokenLifetime: 3_600,
  tokenLifetimeForWeb: 600,
  enforcePolicies: false,
  tokenDialect: 'access_token',
  userPolicy: 'allow_all',
  clientPolicy: 'require_client_grant',
  extra: {},
  createdAt: '',
  updatedAt: '',
};

describe('access token claims', () => {
  const base = {
    issuer: 'https://tenant.example/',
    api,
    clientId: 'app',
    subject: 'auth0|abc',
    scopes: ['read:x'],
    permissions: [],
    gty: 'password',
    nowSeconds: 1_000,
    jti: 'j1',
  };

  it('binds the token to a DPoP key with cnf.jkt when one is given (RFC 9449 §6)', () => {
    expect(buildAccessToken({ ...base, jkt: 'thumb' }).payload).toEqual({
      iss: 'https://tenant.example/',
      sub: 'auth0|abc',
      aud: 'https://api.example.com/',
      iat: 1_000,
      exp: 4_600,
      scope: 'read:x',
      azp: 'app',
      gty: 'password',
      cnf: { jkt: 'thumb' },
    });
  });

  it('carries no cnf for a bearer token', () => {
    expect(buildAccessToken(base).payload).not.toHaveProperty('cnf');
  });
});
