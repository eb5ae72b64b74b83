import type { JWTPayload } from 'jose';
import type { User } from '../../domain/user.js';

export type IdTokenAlg = 'RS256' | 'RS512' | 'PS256' | 'HS256';

export interface IdTokenInput {
  readonly issuer: string;
  readonly clientId: string;
  readonly user: User;
  /** Granted OIDC scopes (openid, profile, email, …). */
  readonly scopes: readonly string[];
  readonly nowSeconds: number;
  readonly lifetime: number;
  readonly nonce?: string;
}

/** OIDC Core §5.4 claims for the granted scopes, from the user's profile. */
export function profileClaims(user: User, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  const put = (key: string, value: unknown) => {
    if (value !== undefined) claims[key] = value;
  };
  if (scopes.includes('profile')) {
    put('name', user.name);
    put('nickname', user.nickname);
    put('given_name', user.givenName);
    put('family_name', user.familyName);
    put('picture', user.picture);
    put('updated_at', user.updatedAt);
  }
  if (scopes.includes('email')) {
    put('email', user.email);
    if (user.email !== undefined) claims['email_verified'] = user.emailVerified;
  }
  if (scopes.includes('phone')) {
    put('phone_number', user.phoneNumber);
    if (user.phoneNumber !== undefined) claims['phone_number_verified'] = user.phoneVerified;
  }
  return claims;
}

/** ID token claims as Auth0 issues them (spec 1.7): aud is the client id. */
export function buildIdToken(input: IdTokenInput): JWTPayload {
  return {
    ...profileClaims(input.user, input.scopes),
    iss: input.issuer,
    sub: input.user.userId,
    aud: input.clientId,
    iat: input.nowSeconds,
    exp: input.nowSeconds + input.lifetime,
    ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
  };
}
