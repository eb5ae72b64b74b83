export interface User {
  readonly tenantId: string;
  /** `auth0|<24 hex>` for database users. */
  readonly userId: string;
  readonly connection: string;
  readonly email: string | undefined;
  readonly emailVerified: boolean;
  readonly username: string | undefined;
  readonly phoneNumber: string | undefined;
  readonly phoneVerified: boolean;
  readonly name: string | undefined;
  readonly givenName: string | undefined;
  readonly familyName: string | undefined;
  readonly nickname: string | undefined;
  readonly picture: string | undefined;
  readonly userMetadata: Readonly<Record<string, unknown>>;
  readonly appMetadata: Readonly<Record<string, unknown>>;
  /** argon2id, or bcrypt when imported from Auth0 (rehashed at the next login). */
  readonly passwordHash: string | undefined;
  readonly lastPasswordReset: string | undefined;
  readonly blocked: boolean;
  readonly loginsCount: number;
  readonly lastLogin: string | undefined;
  readonly lastIp: string | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Provider part of a user id: `auth0|abc` → `auth0`. */
export function userIdProvider(userId: string): string {
  const bar = userId.indexOf('|');
  return bar === -1 ? 'auth0' : userId.slice(0, bar);
}

/** Identity part of a user id: `auth0|abc` → `abc`. */
export function userIdValue(userId: string): string {
  const bar = userId.indexOf('|');
  return bar === -1 ? userId : userId.slice(bar + 1);
}
