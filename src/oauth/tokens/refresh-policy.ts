import type { Client } from '../../domain/client.js';
import type { RefreshTokenRecord } from '../../domain/refresh-token.js';

/**
 * Auth0's defaults for expiring refresh tokens: 30 days absolute (counted from the first issue, not extended by
 * rotation), 15 days idle, no reuse leeway (docs: configure-refresh-token-rotation, client refresh_token schema).
 */
export const DEFAULT_ABSOLUTE_LIFETIME = 2_592_000;
export const DEFAULT_IDLE_LIFETIME = 1_296_000;

/** A client's `refresh_token` settings as Auth0's Management API stores them. */
interface RefreshSettings {
  rotation_type?: string;
  expiration_type?: string;
  token_lifetime?: number;
  idle_token_lifetime?: number;
  infinite_token_lifetime?: boolean;
  infinite_idle_token_lifetime?: boolean;
  leeway?: number;
}

/** How the client's refresh tokens behave, once its settings and the rules for public clients are applied. */
export interface RefreshPolicy {
  readonly rotating: boolean;
  /** Seconds from the family's first issue; undefined: no absolute expiry. */
  readonly absoluteLifetime: number | undefined;
  /** Seconds without use; undefined: never idles out. */
  readonly idleLifetime: number | undefined;
  /** Seconds during which the token a rotation replaced may be presented again without counting as reuse. */
  readonly leeway: number;
}

/** A client without credentials (`token_endpoint_auth_method: none`): native apps and SPAs. */
export function isPublicClient(client: Client): boolean {
  return client.tokenEndpointAuthMethod === 'none';
}

/** The effective refresh-token policy of `client`. */
export function refreshPolicy(client: Client): RefreshPolicy {
  const s = (client.settings['refresh_token'] as RefreshSettings | undefined) ?? {};
  const leeway = s.leeway ?? 0;
  if (isPublicClient(client)) {
    // RFC 9700 §4.14.2: a public client's refresh tokens are sender-constrained or rotated; Latchkey does not
    // sender-constrain yet, so they always rotate, and they always expire (Auth0's defaults unless set).
    return {
      rotating: true,
      absoluteLifetime: s.token_lifetime ?? DEFAULT_ABSOLUTE_LIFETIME,
      idleLifetime: s.idle_token_lifetime ?? DEFAULT_IDLE_LIFETIME,
      leeway,
    };
  }
  const expiring = s.expiration_type === 'expiring';
  return {
    rotating: s.rotation_type === 'rotating',
    absoluteLifetime:
      expiring && s.infinite_token_lifetime !== true
        ? (s.token_lifetime ?? DEFAULT_ABSOLUTE_LIFETIME)
        : undefined,
    idleLifetime:
      expiring && s.infinite_idle_token_lifetime !== true
        ? (s.idle_token_lifetime ?? DEFAULT_IDLE_LIFETIME)
        : undefined,
    leeway,
  };
}

/**
 * The token with the expiry the policy in force gives it: a token issued before its client's tokens had to
 * expire (a public client's old token) is bounded as if issued under today's policy.
 */
export function underPolicy(record: RefreshTokenRecord, policy: RefreshPolicy): RefreshTokenRecord {
  const expiresAt =
    record.expiresAt ??
    (policy.absoluteLifetime === undefined ? undefined : record.createdAt + policy.absoluteLifetime);
  const idleExpiresAt =
    record.idleExpiresAt ??
    (policy.idleLifetime === undefined
      ? undefined
      : (record.lastUsedAt ?? record.createdAt) + policy.idleLifetime);
  return { ...record, expiresAt, idleExpiresAt };
}
