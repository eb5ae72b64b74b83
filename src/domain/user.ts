/** One way a user signs in: an account at a provider, reached through a connection. */
export interface Identity {
  readonly provider: string;
  /** The account's id at the provider: `abc` of `auth0|abc`. */
  readonly userId: string;
  readonly connection: string;
  readonly isSocial: boolean;
  /** Login names of a database identity, unique per connection. */
  readonly email: string | undefined;
  readonly username: string | undefined;
  /** argon2id, or bcrypt when imported from Auth0 (rehashed at the next login). */
  readonly passwordHash: string | undefined;
  /** Auth0's `profileData`: the profile of a linked identity; empty for the user's own identity. */
  readonly profileData: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The user's root profile and every identity it signs in with (its own identity first). */
export interface User {
  readonly tenantId: string;
  /** `{provider}|{id}` of the user's own identity, e.g. `auth0|<24 hex>` for database users. */
  readonly userId: string;
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
  readonly lastPasswordReset: string | undefined;
  readonly blocked: boolean;
  readonly loginsCount: number;
  readonly lastLogin: string | undefined;
  readonly lastIp: string | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly identities: readonly Identity[];
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

/** True for the identity a user id names (the user's own, as opposed to a linked one). */
export function isOwnIdentity(user: Pick<User, 'userId'>, identity: Identity): boolean {
  return `${identity.provider}|${identity.userId}` === user.userId;
}

/**
 * The user's own identity: where its root login names and password live.
 * @throws Error when the user has none (storage always writes one with the user).
 */
export function ownIdentity(user: User): Identity {
  const own = user.identities.find((i) => isOwnIdentity(user, i));
  if (!own) throw new Error(`user ${user.userId} has no identity of its own`);
  return own;
}
