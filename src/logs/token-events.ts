import type { LogType, NewLogEvent } from '../domain/log-event.js';
import { InvalidClient, OAuthError } from '../errors/oauth.js';
import type { LoginFailure } from '../users/authenticate.js';

/** What one token request learned along the way, for its log event; the grants fill in what they know. */
export interface TokenAudit {
  grantType?: string | undefined;
  clientId?: string | undefined;
  clientName?: string | undefined;
  userId?: string | undefined;
  userName?: string | undefined;
  connection?: string | undefined;
  audience?: string | undefined;
  login?: LoginFailure | undefined;
}

export interface RequestFacts {
  readonly ip: string;
  readonly userAgent: string | undefined;
  readonly hostname: string | undefined;
}

const WEBAUTHN_GRANT = 'urn:okta:params:oauth:grant-type:webauthn';
const PASSWORD_GRANTS = new Set(['password', 'http://auth0.com/oauth/grant-type/password-realm']);

const MFA_GRANTS: Readonly<Record<string, { ok: LogType; failed: LogType }>> = {
  'http://auth0.com/oauth/grant-type/mfa-otp': { ok: 'seotpft', failed: 'feotpft' },
  'http://auth0.com/oauth/grant-type/mfa-oob': { ok: 'seoobft', failed: 'feoobft' },
  'http://auth0.com/oauth/grant-type/mfa-recovery-code': { ok: 'sercft', failed: 'fercft' },
};

/** The success and failure codes of each grant's exchange (Auth0's `s…ft` / `f…ft`). */
function exchangeTypes(grantType: string | undefined): { ok: LogType; failed: LogType } {
  if (grantType !== undefined && PASSWORD_GRANTS.has(grantType)) return { ok: 'sepft', failed: 'fepft' };
  if (grantType === 'refresh_token') return { ok: 'sertft', failed: 'fertft' };
  if (grantType === 'authorization_code') return { ok: 'seacft', failed: 'feacft' };
  // Auth0 logs a native passkey sign-in as a login (`s`) or a failed one (`f`); a sign-up adds `ss`.
  if (grantType === WEBAUTHN_GRANT) return { ok: 's', failed: 'f' };
  const mfa =
    grantType !== undefined && Object.hasOwn(MFA_GRANTS, grantType) ? MFA_GRANTS[grantType] : undefined;
  if (mfa) return mfa;
  return { ok: 'seccft', failed: 'feccft' };
}

/** Auth0's code for each way a password sign-in fails. */
export const LOGIN_FAILURE_TYPES: Record<LoginFailure, LogType> = {
  unknown_user: 'fu',
  wrong_password: 'fp',
  password_unusable: 'fp',
  too_many_attempts: 'limit_wc',
  identifier_throttled: 'limit_wc',
  address_throttled: 'limit_mu',
  blocked: 'f',
  no_default_connection: 'f',
  unknown_connection: 'f',
  connection_not_enabled: 'f',
  passkey_refused: 'f',
};

function common(audit: TokenAudit, facts: RequestFacts): Omit<NewLogEvent, 'type'> {
  return {
    clientId: audit.clientId,
    clientName: audit.clientName,
    userId: audit.userId,
    userName: audit.userName,
    connection: audit.connection,
    audience: audit.audience,
    ip: facts.ip,
    userAgent: facts.userAgent,
    hostname: facts.hostname,
  };
}

/** The events of a token request that succeeded: a password sign-in is a login and an exchange. */
export function tokenSuccessEvents(
  audit: TokenAudit,
  facts: RequestFacts,
  scope: string | undefined,
): NewLogEvent[] {
  const base = { ...common(audit, facts), scope };
  const types = exchangeTypes(audit.grantType);
  const login: NewLogEvent = {
    ...base,
    type: 's',
    description: '',
    strategy: 'auth0',
    strategyType: 'database',
  };
  if (types.ok === 's') return [login];
  const exchange: NewLogEvent = { ...base, type: types.ok, description: '' };
  if (types.ok !== 'sepft') return [exchange];
  return [login, exchange];
}

/**
 * The event of a token request that failed. The description is what the caller was told; `details.reason`
 * is why, as the server knows it (fixed words and ids, never a presented secret).
 */
export function tokenFailureEvent(audit: TokenAudit, facts: RequestFacts, error: unknown): NewLogEvent {
  const base = common(audit, facts);
  const oauth = error instanceof OAuthError ? error : undefined;
  const description = oauth?.message ?? 'Internal error';
  const details = { error: oauth?.code ?? 'server_error', ...(reasonOf(audit, oauth) ?? {}) };
  if (audit.login !== undefined) {
    return {
      ...base,
      type: LOGIN_FAILURE_TYPES[audit.login],
      description,
      strategy: 'auth0',
      strategyType: 'database',
      details,
    };
  }
  const reuse = audit.grantType === 'refresh_token' && oauth?.detail?.startsWith('reuse') === true;
  // The first factor passed and the second is due: Auth0 logs that the user was asked for it.
  const mfaAsked = oauth?.code === 'mfa_required';
  const type = reuse ? 'ferrt' : mfaAsked ? 'mfar' : exchangeTypes(audit.grantType).failed;
  return {
    ...base,
    type,
    description: error instanceof InvalidClient ? 'Unauthorized' : description,
    details,
  };
}

function reasonOf(audit: TokenAudit, error: OAuthError | undefined): { reason: string } | undefined {
  if (audit.login !== undefined) return { reason: audit.login };
  // What the server logs about a refusal (ids and fixed words, never a presented secret), kept short.
  return error?.detail === undefined ? undefined : { reason: error.detail.slice(0, 200) };
}
