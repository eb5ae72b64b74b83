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
  /** The single audience the token must carry (a resource server identifier). */
  readonly audience: string;
  /** When true, an `aud` array (e.g. with userinfo) is refused: seed 003's one-audience rule. */
  readonly singleAudience: boolean;
  readonly publicKey: (kid: string) => Promise<KeyObject | undefined>;
  readonly nowSeconds: number;
}

/**
 * Verifies an RS256 access token signed by the tenant.
 * @throws TokenVerificationError with the reason and an Auth0-style message.
 */
export async function verifyAccessToken(input: VerifyInput): Promise<AccessTokenClaims> {
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(input.token).kid;
  } catch {
    throw new TokenVerificationError('malformed', 'Bad HTTP authentication header format');
  }
  const key = kid === undefined ? undefined : await input.publicKey(kid);
  if (!key) throw new TokenVerificationError('invalid', 'Invalid token');
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
  const aud = payload.aud;
  const audiences = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
  const ok = input.singleAudience
    ? audiences.length === 1 && audiences[0] === input.audience
    : audiences.includes(input.audience);
  if (!ok) throw new TokenVerificationError('bad_audience', `Bad audience: ${audiences.join(' ')}`);
  return payload as AccessTokenClaims;
}
