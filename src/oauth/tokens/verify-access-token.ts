import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { KeyObject } from 'node:crypto';

export interface AccessTokenClaims extends JWTPayload {
  readonly sub: string;
  readonly scope?: string;
  readonly azp?: string;
  readonly gty?: string;
}

export type VerifyFailure = 'malformed' | 'invalid' | 'expired' | 'bad_audience';

export class TokenVerificationError extends Error {
  constructor(
    readonly reason: VerifyFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifyInput {
  readonly token: string;
  readonly issuer: string;
  readonly publicKey: (kid: string) => Promise<KeyObject | undefined>;
  readonly nowSeconds: number;
}

export interface VerifiedAccessToken {
  readonly claims: AccessTokenClaims & { readonly exp: number };
  /** The key that signed it: the token stops being valid when that key is revoked. */
  readonly kid: string;
}

/**
 * 'exact': `aud` must be this one audience (seed 003's one-audience rule, the Management API);
 * 'includes': an `aud` array naming it is accepted (userinfo, the My Account API).
 */
export type AudienceRule = 'exact' | 'includes';

/**
 * Verifies an RS256 access token signed by the tenant: signature, issuer, expiry. The audience is the
 * caller's to check ({@link assertAudience}), so one verification serves every surface.
 * @throws TokenVerificationError with the reason and an Auth0-style message.
 */
export async function verifyAccessToken(input: VerifyInput): Promise<VerifiedAccessToken> {
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(input.token).kid;
  } catch {
    throw new TokenVerificationError('malformed', 'Bad HTTP authentication header format');
  }
  const key = kid === undefined ? undefined : await input.publicKey(kid);
  if (kid === undefined || !key) throw new TokenVerificationError('invalid', 'Invalid token');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(input.token, key, {
      issuer: input.issuer,
      algorithms: ['RS256'],
      currentDate: new Date(input.nowSeconds * 1000),
      requiredClaims: ['sub', 'exp', 'iat'],
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      throw new TokenVerificationError('expired', 'Expired token received for JSON Web Token validation');
    }
    throw new TokenVerificationError('invalid', 'Invalid token');
  }
  return { claims: payload as AccessTokenClaims & { exp: number }, kid };
}

/**
 * @throws TokenVerificationError('bad_audience') when the token's `aud` does not satisfy `rule` for `audience`.
 */
export function assertAudience(aud: JWTPayload['aud'], audience: string, rule: AudienceRule): void {
  const ok =
    rule === 'exact'
      ? aud === audience || (Array.isArray(aud) && aud.length === 1 && aud[0] === audience)
      : aud === audience || (Array.isArray(aud) && aud.includes(audience));
  if (!ok) {
    const audiences = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
    throw new TokenVerificationError('bad_audience', `Bad audience: ${audiences.join(' ')}`);
  }
}
