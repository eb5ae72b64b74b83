import { describe, expect, it } from 'vitest';
import { buildIdToken, halfHash } from '../../../src/oauth/tokens/id-token.js';
import { userRow } from '../../helpers/store.js';

// OpenID Connect Core 1.0, Appendix A.6: the example hybrid response and the hashes its ID token carries.
const ACCESS_TOKEN = 'jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y';
const CODE = 'Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk';

describe('ID token claims', () => {
  it.each([
    ['at_hash of the OIDC Core example access token', ACCESS_TOKEN, '77QmUPtjPfzWtF2AnpK9RQ'],
    ['c_hash of the OIDC Core example code', CODE, 'LDktKdoQak3Pk0cnXxCltA'],
  ] as const)('%s', (_name, value, expected) => {
    expect(halfHash(value, 'RS256')).toBe(expected);
  });

  it('uses the left half of SHA-512 for RS512 (32 bytes, 43 characters)', () => {
    expect(halfHash(ACCESS_TOKEN, 'RS512')).toMatch(/^[\w-]{43}$/);
  });

  it('carries the sign-in context a browser flow knows: nonce, auth_time, sid, amr, at_hash, c_hash', () => {
    const user = userRow('abc', { email: 'a@example.com', emailVerified: true, name: 'A' });
    expect(
      buildIdToken({
        issuer: 'https://tenant.example/',
        clientId: 'app',
        user,
        scopes: ['openid', 'email'],
        nowSeconds: 1_000,
        lifetime: 600,
        alg: 'RS256',
        nonce: 'n-0S6_WzA2Mj',
        authTime: 990,
        sid: 'sess_1',
        amr: ['pwd', 'mfa'],
        accessToken: ACCESS_TOKEN,
        code: CODE,
      }),
    ).toEqual({
      email: 'a@example.com',
      email_verified: true,
      iss: 'https://tenant.example/',
      sub: 'auth0|abc',
      aud: 'app',
      iat: 1_000,
      exp: 1_600,
      nonce: 'n-0S6_WzA2Mj',
      auth_time: 990,
      sid: 'sess_1',
      amr: ['pwd', 'mfa'],
      at_hash: '77QmUPtjPfzWtF2AnpK9RQ',
      c_hash: 'LDktKdoQak3Pk0cnXxCltA',
    });
  });

  it('adds none of them to a token-endpoint ID token that has no such context', () => {
    const token = buildIdToken({
      issuer: 'https://tenant.example/',
      clientId: 'app',
      user: userRow('abc'),
      scopes: ['openid'],
      nowSeconds: 1_000,
      lifetime: 600,
      alg: 'RS256',
    });
    expect(token).toEqual({
      iss: 'https://tenant.example/',
      sub: 'auth0|abc',
      aud: 'app',
      iat: 1_000,
      exp: 1_600,
    });
  });
});
