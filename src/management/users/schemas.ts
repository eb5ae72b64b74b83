import { Type, type Static } from 'typebox';
import { isOwnIdentity, type Identity as UserIdentity, type User } from '../../domain/user.js';
import { FreeKeyMap } from '../maps.js';
import { FieldsQuery, PageQuery, listView } from '../pagination.js';

export const METADATA_MAX_PROPERTIES = 100;
/** Any key Unicode allows (line breaks, emoji included) up to 255 characters; Auth0's `.`/`$` rule is the service's. */
const Metadata = FreeKeyMap(Type.Unknown(), {
  maxProperties: METADATA_MAX_PROPERTIES,
  keys: { maxLength: 255 },
});
/** Responses carry every stored key exactly, whatever limits applied when it was written. */
const MetadataView = FreeKeyMap(Type.Unknown());
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

const profile = {
  email: Type.Optional(Type.String({ minLength: 3, maxLength: 254, format: 'email' })),
  phone_number: Type.Optional(Type.String({ minLength: 1, maxLength: 30 })),
  email_verified: Type.Optional(Type.Boolean()),
  phone_verified: Type.Optional(Type.Boolean()),
  verify_email: Type.Optional(Type.Boolean()),
  given_name: Type.Optional(Text(150)),
  family_name: Type.Optional(Text(150)),
  name: Type.Optional(Text(300)),
  nickname: Type.Optional(Text(300)),
  picture: Type.Optional(Text(2000)),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s@]+$' })),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  blocked: Type.Optional(Type.Boolean()),
};

const Encoded = Type.Object(
  {
    value: Type.String({ minLength: 1, maxLength: 1024 }),
    encoding: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);
/**
 * Auth0's import format for a password hash. Every Auth0 algorithm's fields are accepted here so that an
 * unsupported algorithm gets the service's clear "only bcrypt" answer instead of a schema error.
 */
const CustomPasswordHash = Type.Object(
  {
    algorithm: Type.String({ minLength: 1, maxLength: 32 }),
    hash: Type.Object(
      {
        value: Type.String({ minLength: 1, maxLength: 1024 }),
        encoding: Type.Optional(Type.String({ maxLength: 32 })),
        digest: Type.Optional(Type.String({ maxLength: 32 })),
        key: Type.Optional(Encoded),
      },
      { additionalProperties: false },
    ),
    salt: Type.Optional(
      Type.Object(
        {
          value: Type.String({ minLength: 1, maxLength: 1024 }),
          encoding: Type.Optional(Type.String({ maxLength: 32 })),
          position: Type.Optional(Type.String({ maxLength: 32 })),
        },
        { additionalProperties: false },
      ),
    ),
    password: Type.Optional(
      Type.Object({ encoding: Type.String({ maxLength: 32 }) }, { additionalProperties: false }),
    ),
    keys: Type.Optional(FreeKeyMap(Type.Unknown(), { maxProperties: 10, keys: { maxLength: 64 } })),
    parameters: Type.Optional(FreeKeyMap(Type.Unknown(), { maxProperties: 20, keys: { maxLength: 64 } })),
  },
  { additionalProperties: false },
);
export type CustomPasswordHash = Static<typeof CustomPasswordHash>;

export const UserCreate = Type.Object(
  {
    ...profile,
    custom_password_hash: Type.Optional(CustomPasswordHash),
    connection: Type.String({ minLength: 1, maxLength: 128 }),
    user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[^|\\s]+$' })),
    user_metadata: Type.Optional(Metadata),
    app_metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type UserCreate = Static<typeof UserCreate>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const UserUpdate = Type.Object(
  {
    ...Object.fromEntries(Object.entries(profile).map(([k, v]) => [k, Type.Optional(Nullable(v))])),
    user_metadata: Type.Optional(Nullable(Metadata)),
    app_metadata: Type.Optional(Nullable(Metadata)),
    connection: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    verify_phone_number: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export interface UserUpdate {
  email?: string | null;
  phone_number?: string | null;
  email_verified?: boolean | null;
  phone_verified?: boolean | null;
  verify_email?: boolean | null;
  given_name?: string | null;
  family_name?: string | null;
  name?: string | null;
  nickname?: string | null;
  picture?: string | null;
  username?: string | null;
  password?: string | null;
  blocked?: boolean | null;
  user_metadata?: Record<string, unknown> | null;
  app_metadata?: Record<string, unknown> | null;
  connection?: string;
  client_id?: string;
  verify_phone_number?: boolean;
}

export const UserParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });

export const UserListQuery = Type.Object(
  {
    ...PageQuery,
    ...FieldsQuery,
    q: Type.Optional(Type.String({ maxLength: 2000 })),
    search_engine: Type.Optional(Type.Enum(['v1', 'v2', 'v3'])),
    sort: Type.Optional(Type.String({ pattern: '^[a-z_]+:(1|-1)$' })),
    connection: Type.Optional(Type.String({ maxLength: 128 })),
    primary_order: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type UserListQuery = Static<typeof UserListQuery>;

export const UsersByEmailQuery = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), ...FieldsQuery },
  { additionalProperties: false },
);

/** POST /users/{id}/identities (spec 4.5): `link_with`, or `provider` and `user_id`. */
export const LinkBody = Type.Object(
  {
    link_with: Type.Optional(Type.String({ minLength: 1, maxLength: 16 * 1024 })),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    user_id: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Integer({ minimum: 0 })]),
    ),
    connection_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type LinkBody = Static<typeof LinkBody>;

export const IdentityParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 300 }),
  provider: Type.String({ minLength: 1, maxLength: 100 }),
  user_id: Type.String({ minLength: 1, maxLength: 255 }),
});

const Identity = Type.Object({
  connection: Type.String(),
  user_id: Type.String(),
  provider: Type.String(),
  isSocial: Type.Boolean(),
  // Auth0 shows a linked identity's own profile here; the user's own identity has none.
  profileData: Type.Optional(MetadataView),
});

export const IdentitiesView = Type.Array(Identity);

/** Auth0's identity item; `profileData` only on linked identities. */
export function toIdentityView(u: Pick<User, 'userId'>, i: UserIdentity): Static<typeof Identity> {
  return {
    connection: i.connection,
    user_id: i.userId,
    provider: i.provider,
    isSocial: i.isSocial,
    ...(isOwnIdentity(u, i) ? {} : { profileData: { ...i.profileData } }),
  };
}

export const UserView = Type.Object({
  user_id: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  email_verified: Type.Optional(Type.Boolean()),
  username: Type.Optional(Type.String()),
  phone_number: Type.Optional(Type.String()),
  phone_verified: Type.Optional(Type.Boolean()),
  name: Type.Optional(Type.String()),
  nickname: Type.Optional(Type.String()),
  given_name: Type.Optional(Type.String()),
  family_name: Type.Optional(Type.String()),
  picture: Type.Optional(Type.String()),
  created_at: Type.Optional(Type.String()),
  updated_at: Type.Optional(Type.String()),
  identities: Type.Optional(Type.Array(Identity)),
  user_metadata: Type.Optional(MetadataView),
  app_metadata: Type.Optional(MetadataView),
  last_ip: Type.Optional(Type.String()),
  last_login: Type.Optional(Type.String()),
  last_password_reset: Type.Optional(Type.String()),
  logins_count: Type.Optional(Type.Integer()),
  blocked: Type.Optional(Type.Boolean()),
  multifactor: Type.Optional(Type.Array(Type.String())),
});
export type UserView = Static<typeof UserView>;

export const UserListView = listView('users', UserView);

const opt = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  value === undefined ? {} : ({ [key]: value } as Record<K, V>);

export function toUserView(u: User): UserView {
  return {
    user_id: u.userId,
    ...opt('email', u.email),
    ...(u.email !== undefined ? { email_verified: u.emailVerified } : {}),
    ...opt('username', u.username),
    ...opt('phone_number', u.phoneNumber),
    ...(u.phoneNumber !== undefined ? { phone_verified: u.phoneVerified } : {}),
    ...opt('name', u.name),
    ...opt('nickname', u.nickname),
    ...opt('given_name', u.givenName),
    ...opt('family_name', u.familyName),
    ...opt('picture', u.picture),
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    identities: u.identities.map((i) => toIdentityView(u, i)),
    ...(Object.keys(u.userMetadata).length > 0 ? { user_metadata: { ...u.userMetadata } } : {}),
    ...(Object.keys(u.appMetadata).length > 0 ? { app_metadata: { ...u.appMetadata } } : {}),
    ...opt('last_ip', u.lastIp),
    ...opt('last_login', u.lastLogin),
    ...opt('last_password_reset', u.lastPasswordReset),
    logins_count: u.loginsCount,
    ...(u.blocked ? { blocked: true } : {}),
  };
}
