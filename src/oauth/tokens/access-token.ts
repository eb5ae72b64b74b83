import type { JWTPayload } from 'jose';
import type { ResourceServer } from '../../domain/resource-server.js';
import type { JwtAlg, SignOptions } from '../../keys/signer.js';

export interface AccessTokenInput {
  readonly issuer: string;
  readonly api: ResourceServer;
  readonly clientId: string;
  /** `{client_id}@clients` for client credentials, the user id otherwise. */
  readonly subject: string;
  /** Extra audiences after the API (e.g. `{issuer}userinfo` when openid was granted). */
  readonly extraAudiences?: readonly string[];
  readonly scopes: readonly string[];
  readonly permissions: readonly string[];
  /** Auth0's grant marker, e.g. `client-credentials`, `password`. */
  readonly gty: string | undefined;
  readonly nowSeconds: number;
  readonly jti: string;
  /** RFC 9449 §6: the thumbprint of the DPoP key the token is bound to. */
  readonly jkt?: string;
  /**
   * How and when the user authenticated, carried only by tokens of a multi-factor sign-in (`amr` with `mfa`):
   * APIs that demand a recent second factor (step-up, RFC 9470) read them.
   */
  readonly mfa?: { readonly amr: readonly string[]; readonly authTime: number };
  /** Seconds the token lives, when not the API's token_lifetime (implicit tokens: token_lifetime_for_web). */
  readonly lifetime?: number;
}

export interface AccessTokenToSign {
  readonly payload: JWTPayload;
  readonly sign: SignOptions;
  readonly expiresIn: number;
}

/** Builds an access token's claims and signing options for the API's dialect and algorithm (spec 1.7). */
export function buildAccessToken(input: AccessTokenInput): AccessTokenToSign {
  const { api } = input;
  const rfc9068 = api.tokenDialect.startsWith('rfc9068');
  const withPermissions = api.tokenDialect.endsWith('_authz') && api.enforcePolicies;
  const audiences = [api.identifier, ...(input.extraAudiences ?? [])];
  const lifetime = input.lifetime ?? api.tokenLifetime;
  const payload: JWTPayload = {
    iss: input.issuer,
    sub: input.subject,
    aud: audiences.length === 1 ? api.identifier : audiences,
    iat: input.nowSeconds,
    exp: input.nowSeconds + lifetime,
    ...(input.scopes.length > 0 ? { scope: input.scopes.join(' ') } : {}),
    ...(rfc9068 ? { client_id: input.clientId, jti: input.jti } : { azp: input.clientId }),
    ...(!rfc9068 && input.gty !== undefined ? { gty: input.gty } : {}),
    ...(withPermissions ? { permissions: [...input.permissions] } : {}),
    ...(input.jkt !== undefined ? { cnf: { jkt: input.jkt } } : {}),
    ...(input.mfa !== undefined ? { amr: [...input.mfa.amr], auth_time: input.mfa.authTime } : {}),
  };
  const alg: JwtAlg = api.signingAlg;
  return {
    payload,
    expiresIn: lifetime,
    sign: {
      alg,
      typ: rfc9068 ? 'at+jwt' : 'JWT',
      ...(alg === 'HS256' && api.signingSecret !== undefined ? { secret: api.signingSecret } : {}),
    },
  };
}
