import type { KeyObject } from 'node:crypto';
import type { User } from '../domain/user.js';
import { profileClaims } from './tokens/id-token.js';
import { TokenVerificationError, verifyAccessToken } from './tokens/verify-access-token.js';

/** GET /userinfo body: `sub` plus the standard claims the token's scopes allow (OIDC Core §5.3). */
export function userinfoClaims(user: User, scope: string | undefined): Record<string, unknown> {
  const scopes = (scope ?? '').split(' ').filter(Boolean);
  return { sub: user.userId, ...profileClaims(user, scopes) };
}

export interface UserinfoDeps {
  readonly issuer: string;
  readonly nowSeconds: number;
  readonly publicKey: (kid: string) => Promise<KeyObject | undefined>;
  readonly findUser: (userId: string) => Promise<User | undefined>;
}

export type UserinfoResult =
  | { readonly ok: true; readonly claims: Record<string, unknown> }
  | {
      readonly ok: false;
      readonly error: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
      readonly description: string;
    };

/** RFC 6750 bearer check for /userinfo: the token must name the userinfo audience and carry openid. */
export async function userinfo(
  authorization: string | undefined,
  deps: UserinfoDeps,
): Promise<UserinfoResult> {
  const match = /^Bearer +(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) return { ok: false, error: 'invalid_request', description: 'Missing access token' };
  let claims;
  try {
    claims = await verifyAccessToken({
      token: match[1],
      issuer: deps.issuer,
      audience: `${deps.issuer}userinfo`,
      singleAudience: false,
      publicKey: deps.publicKey,
      nowSeconds: deps.nowSeconds,
    });
  } catch (error) {
    if (error instanceof TokenVerificationError)
      return { ok: false, error: 'invalid_token', description: error.message };
    throw error;
  }
  if (!(claims.scope ?? '').split(' ').includes('openid')) {
    return { ok: false, error: 'insufficient_scope', description: 'The token was not granted openid' };
  }
  const user = await deps.findUser(claims.sub);
  if (!user) return { ok: false, error: 'invalid_token', description: 'The user no longer exists' };
  return { ok: true, claims: userinfoClaims(user, claims.scope) };
}
