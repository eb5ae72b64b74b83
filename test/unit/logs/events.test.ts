import { describe, expect, it } from 'vitest';
import {
  InvalidClient,
  InvalidGrant,
  InvalidScope,
  MfaRequired,
  OAuthError,
} from '../../../src/errors/oauth.js';
import { describe as describeCall, managementEvents } from '../../../src/logs/management-events.js';
import { tokenFailureEvent, tokenSuccessEvents, type TokenAudit } from '../../../src/logs/token-events.js';
import type { LoginFailure } from '../../../src/users/authenticate.js';

const FACTS = { ip: '203.0.113.9', userAgent: 'ua', hostname: 'id.example.com' };
const PASSWORD = 'password';
const REALM = 'http://auth0.com/oauth/grant-type/password-realm';

describe('token events', () => {
  it.each([
    ['client_credentials', ['seccft']],
    [PASSWORD, ['s', 'sepft']],
    [REALM, ['s', 'sepft']],
    ['refresh_token', ['sertft']],
    ['http://auth0.com/oauth/grant-type/mfa-otp', ['seotpft']],
    ['http://auth0.com/oauth/grant-type/mfa-oob', ['seoobft']],
    ['http://auth0.com/oauth/grant-type/mfa-recovery-code', ['sercft']],
    ['constructor', ['seccft']],
  ])('a successful %s exchange records %j', (grantType, types) => {
    const events = tokenSuccessEvents({ grantType, clientId: 'c' }, FACTS, 'read:a');
    expect(events.map((e) => e.type)).toEqual(types);
    expect(events.every((e) => e.clientId === 'c' && e.scope === 'read:a' && e.ip === FACTS.ip)).toBe(true);
  });

  it.each<[LoginFailure, string]>([
    ['unknown_user', 'fu'],
    ['wrong_password', 'fp'],
    ['password_unusable', 'fp'],
    ['too_many_attempts', 'limit_wc'],
    ['identifier_throttled', 'limit_wc'],
    ['address_throttled', 'limit_mu'],
    ['blocked', 'f'],
    ['unknown_connection', 'f'],
    ['connection_not_enabled', 'f'],
    ['no_default_connection', 'f'],
  ])('a sign-in failing with %s records %s, with the reason', (login, type) => {
    const event = tokenFailureEvent(
      { grantType: PASSWORD, login },
      FACTS,
      new InvalidGrant('Wrong email or password.'),
    );
    expect(event).toMatchObject({ type, details: { reason: login } });
  });

  it.each<[TokenAudit, unknown, string, string]>([
    [
      { grantType: 'client_credentials' },
      new InvalidClient('Client authentication failed', 'c: wrong secret'),
      'feccft',
      'Unauthorized',
    ],
    [{ grantType: PASSWORD }, new InvalidClient(), 'fepft', 'Unauthorized'],
    [
      { grantType: 'refresh_token' },
      new InvalidGrant('Unknown or invalid refresh token.', 'expired: rt'),
      'fertft',
      'Unknown or invalid refresh token.',
    ],
    [
      { grantType: 'refresh_token' },
      new InvalidGrant('Unknown or invalid refresh token.', 'reuse: rotated'),
      'ferrt',
      'Unknown or invalid refresh token.',
    ],
    [{ grantType: PASSWORD }, new InvalidScope('too much'), 'fepft', 'too much'],
    [{ grantType: PASSWORD }, new MfaRequired('t'), 'mfar', 'Multifactor authentication required'],
    [{ grantType: 'refresh_token' }, new MfaRequired('t'), 'mfar', 'Multifactor authentication required'],
    [
      { grantType: 'http://auth0.com/oauth/grant-type/mfa-otp' },
      new InvalidGrant('Invalid otp_code.'),
      'feotpft',
      'Invalid otp_code.',
    ],
    [
      {},
      new OAuthError('unsupported_grant_type', 'Unsupported grant type: x'),
      'feccft',
      'Unsupported grant type: x',
    ],
    [{ grantType: 'client_credentials' }, new Error('boom'), 'feccft', 'Internal error'],
  ])('a failed exchange %j with %s records %s', (audit, error, type, description) => {
    expect(tokenFailureEvent(audit, FACTS, error)).toMatchObject({ type, description });
  });
});

describe('management events', () => {
  it.each([
    ['POST', '/clients', 'Create a client'],
    ['PATCH', '/clients/:id', 'Update a client'],
    ['DELETE', '/users/:id', 'Delete a user'],
    ['POST', '/users/:id/roles', 'Assign roles to a user'],
    ['POST', '/clients/:id/credentials', 'Create credentials of a client'],
    ['DELETE', '/users/:id/refresh-tokens', 'Delete refresh tokens of a user'],
    ['PATCH', '/tenants/settings', 'Update tenant settings'],
    ['POST', '/keys/signing/rotate', 'Rotate the Application Signing Key'],
    ['PATCH', '/client-grants/:id', 'Update a client grant'],
    ['DELETE', '/user-blocks/:id', 'Unblock a user'],
    ['PUT', '/policies', 'Set policies'],
  ])('describes %s %s as "%s"', (method, route, text) => {
    expect(describeCall(method, route)).toBe(text);
  });

  const auth = {
    sub: 'c@clients',
    clientId: 'c',
    scopes: new Set(['update:users']),
    isUser: false,
    claims: {},
  };
  const call = (over: object) => ({
    method: 'PATCH',
    route: '/users/:id',
    path: '/users/auth0%7C1',
    params: { id: 'auth0|1' },
    body: {},
    status: 200,
    auth: auth as never,
    ip: FACTS.ip,
    userAgent: 'ua',
    hostname: 'h',
    ...over,
  });

  it('records scp beside sapi only when a password was set successfully, and never the body', () => {
    const withPassword = managementEvents(call({ body: { password: 'Secret-1' } }));
    expect(withPassword.map((e) => e.type)).toEqual(['sapi', 'scp']);
    expect(JSON.stringify(withPassword)).not.toContain('Secret-1');
    expect(managementEvents(call({ body: { name: 'x' } })).map((e) => e.type)).toEqual(['sapi']);
    expect(
      managementEvents(call({ body: { password: 'Secret-1' }, status: 400 })).map((e) => e.type),
    ).toEqual(['fapi']);
  });
});
