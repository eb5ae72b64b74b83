import type { User } from '../domain/user.js';
import { profileClaims } from './tokens/id-token.js';

/** GET /userinfo body: `sub` plus the standard claims the token's scopes allow (OIDC Core §5.3). */
export function userinfoClaims(user: User, scope: string | undefined): Record<string, unknown> {
  const scopes = (scope ?? '').split(' ').filter(Boolean);
  return { sub: user.userId, ...profileClaims(user, scopes) };
}
