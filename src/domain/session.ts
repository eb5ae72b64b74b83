/** An SSO session: who signed in in this browser, when, and until when the sign-in counts. Epoch seconds. */
export interface Session {
  /** Public id: the ID token's `sid`. The cookie value is another, secret, random string. */
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  /** When the user last proved who they are (the ID token's `auth_time`). */
  readonly authenticatedAt: number;
  readonly lastInteractionAt: number;
  /** Absolute expiry (tenant `session_lifetime`). */
  readonly expiresAt: number;
  /** Idle expiry, pushed forward by each use (tenant `idle_session_lifetime`). */
  readonly idleExpiresAt: number;
  readonly revokedAt: number | undefined;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
  /** How the user authenticated in this session (RFC 8176 values, plus `mfa` once a second factor passed). */
  readonly amr: readonly string[];
  /** When a second factor last completed in this session (epoch seconds), for acr_values and step-up. */
  readonly mfaAt: number | undefined;
}

/** Neither revoked nor past either expiry at `now`. */
export function isSessionActive(session: Session, now: number): boolean {
  return session.revokedAt === undefined && now < session.expiresAt && now < session.idleExpiresAt;
}
