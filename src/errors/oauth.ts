import { AppError } from './app-error.js';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'access_denied'
  | 'server_error'
  | 'too_many_requests'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'too_many_attempts'
  | 'unauthorized'
  | 'temporarily_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'mfa_required'
  | 'unsupported_challenge_type'
  | 'not_found';

export class OAuthError extends AppError {
  constructor(
    readonly code: OAuthErrorCode,
    message: string,
    readonly status = 400,
    detail?: string,
    /** The `WWW-Authenticate` challenge to send with this error, if any. */
    readonly challenge?: string,
  ) {
    super(message, detail);
  }
}

export class InvalidRequest extends OAuthError {
  constructor(message: string, detail?: string) {
    super('invalid_request', message, 400, detail);
  }
}

/** Client authentication failed (RFC 6749 §5.2): 401, with a Basic challenge when the client used Basic. */
export class InvalidClient extends OAuthError {
  constructor(message = 'Client authentication failed', detail?: string, challenge?: string) {
    super('invalid_client', message, 401, detail, challenge);
  }
}

export class InvalidGrant extends OAuthError {
  // Auth0 compat: invalid_grant is a 403 on Auth0's token endpoint.
  constructor(message = 'grant is invalid', detail?: string) {
    super('invalid_grant', message, 403, detail);
  }
}

export class InvalidScope extends OAuthError {
  constructor(message: string, detail?: string) {
    super('invalid_scope', message, 403, detail);
  }
}

export class UnauthorizedClient extends OAuthError {
  constructor(message: string, detail?: string) {
    super('unauthorized_client', message, 403, detail);
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(message: string) {
    super('unsupported_grant_type', message, 400);
  }
}

export class AccessDenied extends OAuthError {
  constructor(message: string, detail?: string) {
    super('access_denied', message, 403, detail);
  }
}

/** 429 on the Authentication API (Auth0's documented body for an exceeded rate limit). */
export class TooManyRequestsOAuth extends OAuthError {
  constructor() {
    super(
      'too_many_requests',
      'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.',
      429,
    );
  }
}

/**
 * RFC 6750 §3.1 error at a bearer-protected endpoint (userinfo), with its `WWW-Authenticate: Bearer` challenge:
 * 401 for a missing or bad token, 403 for a token lacking the scope.
 */
export function bearerTokenError(
  realm: string,
  code: 'invalid_request' | 'invalid_token' | 'insufficient_scope',
  description: string,
): OAuthError {
  return new OAuthError(
    code,
    description,
    code === 'insufficient_scope' ? 403 : 401,
    undefined,
    `Bearer realm="${realm}", error="${code}", error_description="${description}"`,
  );
}

/** RFC 9449 §5, §7.1: the DPoP proof is missing, invalid, or does not match the key the grant is bound to. */
export class DpopRefused extends OAuthError {
  constructor(message: string, challenge?: string) {
    super('invalid_dpop_proof', message, 400, undefined, challenge);
  }
}

/** RFC 9449 §8: the server demands a nonce in the proof; the answer carries one in `DPoP-Nonce`. */
export class UseDpopNonce extends OAuthError {
  constructor(message = 'Authorization server requires nonce in DPoP proof') {
    super('use_dpop_nonce', message, 400);
  }
}

/**
 * Auth0's answer when the first factor passed and a second is due: 403 `mfa_required` with an `mfa_token`, which
 * the client uses at /mfa/* and in the mfa-* grants to finish the sign-in.
 */
export class MfaRequired extends OAuthError {
  constructor(
    readonly mfaToken: string,
    detail?: string,
  ) {
    super('mfa_required', 'Multifactor authentication required', 403, detail);
  }
}
