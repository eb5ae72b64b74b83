import type { Client } from '../../src/domain/client.js';
import type { User } from '../../src/domain/user.js';
import { issueUserTokens } from '../../src/oauth/tokens/user-tokens.js';
import { createTokenEndpointDeps } from '../../src/server/token-endpoint-deps.js';
import type { TestApp } from './build-test-app.js';

export interface MfaTokenRequest {
  readonly client: Client;
  readonly user: User;
  readonly audience: string;
  readonly scopes: readonly string[];
  /** When the second factor was completed (epoch seconds); now on the app's clock by default. */
  readonly authTime?: number;
  /** The DPoP key thumbprint to bind the token to (`cnf.jkt`). */
  readonly jkt?: string;
}

/**
 * An access token of a multi-factor sign-in (`amr` with "mfa", `auth_time`), issued by the real issuer with the
 * app's token-endpoint wiring, as the hosted challenge page or an mfa-* grant would. Until the MFA API gives
 * tests an HTTP path to such a token (issue 12, being built beside this), this is the way to get one.
 */
export async function mfaAccessToken(t: TestApp, request: MfaTokenRequest): Promise<string> {
  const authTime = request.authTime ?? Math.floor(t.clock.now() / 1000);
  const response = await issueUserTokens(
    {
      client: request.client,
      user: request.user,
      audience: request.audience,
      requested: ['openid', ...request.scopes],
      gty: 'password',
      from: { ip: '127.0.0.1', userAgent: undefined },
      context: {
        amr: ['pwd', 'otp', 'mfa'],
        authTime,
        ...(request.jkt !== undefined ? { jkt: request.jkt } : {}),
      },
    },
    createTokenEndpointDeps(t.deps, t.app.log),
  );
  return response.access_token;
}
