/**
 * Why a refresh token stopped working, kept on the row so tenant logs and audits can tell a leak (reuse) from
 * an administrator's action.
 */
export type RevocationReason =
  /** RFC 7009 revocation by the client (`POST /oauth/revoke`). */
  | 'revoked'
  /** A rotated token was presented again outside the leeway (RFC 9700 §4.14.2): the family is revoked. */
  | 'reuse'
  /** Two exchanges of one rotating token raced; the loser counts as reuse. */
  | 'reuse_race'
  /** The authorization code that issued the family was presented again (RFC 6749 §4.1.2). */
  | 'code_reuse'
  | 'password_changed'
  | 'user_blocked'
  /** `DELETE /api/v2/grants…`: the user withdrew the application's access. */
  | 'grant_deleted'
  /** `DELETE /api/v2/refresh-tokens/{id}` or `DELETE /api/v2/users/{id}/refresh-tokens`. */
  | 'deleted_by_admin';

/** Where a refresh token was issued and last used (Auth0's `device`). */
export interface RefreshTokenDevice {
  readonly initialIp: string | undefined;
  readonly initialUserAgent: string | undefined;
  readonly lastIp: string | undefined;
  readonly lastUserAgent: string | undefined;
}

export interface RefreshTokenRecord {
  readonly id: string;
  /** SHA-256 of the token: the token itself is never stored. */
  readonly tokenHash: string;
  /** Every token minted by rotation from one original shares its family. */
  readonly familyId: string;
  readonly userId: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scope: readonly string[];
  readonly rotating: boolean;
  /** Epoch seconds. */
  readonly createdAt: number;
  readonly expiresAt: number | undefined;
  readonly idleExpiresAt: number | undefined;
  readonly lastUsedAt: number | undefined;
  readonly rotatedAt: number | undefined;
  readonly revokedAt: number | undefined;
  readonly revokedReason: RevocationReason | undefined;
  readonly device: RefreshTokenDevice;
  /** RFC 9449 §5: the DPoP key thumbprint a public client's token is bound to; its exchange needs that key. */
  readonly jkt?: string;
  /** How the sign-in that started the family authenticated (RFC 8176; `mfa` once a second factor passed). */
  readonly amr?: readonly string[];
}

export interface Consent {
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scope: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}
