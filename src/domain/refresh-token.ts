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
