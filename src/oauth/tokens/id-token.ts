import { createHash } from 'node:crypto';
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
  /** The ID token's signing algorithm: `at_hash` and `c_hash` use its hash. */
  readonly alg: IdTokenAlg;
  readonly nonce?: string;
  /** Epoch seconds of the authentication. */
  readonly authTime?: number;
  readonly sid?: string;
  readonly amr?: readonly string[];
  /** The authentication context class reference the sign-in satisfied (OIDC Core §2). */
  readonly acr?: string;
  /** The access token issued beside the ID token, for `at_hash`. */
  readonly accessToken?: string;
  /** The authorization code issued beside the ID token, for `c_hash`. */
  readonly code?: string;
}

/** OIDC Core §3.3.2.11: base64url of the left half of the hash the signing algorithm uses. */
export function halfHash(value: string, alg: IdTokenAlg): string {
  const digest = createHash(alg === 'RS512' ? 'sha512' : 'sha256')
    .update(value, 'ascii')
    .digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
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
    ...(input.authTime !== undefined ? { auth_time: input.authTime } : {}),
    ...(input.sid !== undefined ? { sid: input.sid } : {}),
    ...(input.amr !== undefined ? { amr: [...input.amr] } : {}),
    ...(input.acr !== undefined ? { acr: input.acr } : {}),
    ...(input.accessToken !== undefined ? { at_hash: halfHash(input.accessToken, input.alg) } : {}),
    ...(input.code !== undefined ? { c_hash: halfHash(input.code, input.alg) } : {}),
  };
}
