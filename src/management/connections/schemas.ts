import { Type, type Static } from 'typebox';
import type { Connection } from '../../domain/connection.js';
import { FreeKeyMap } from '../maps.js';
import { CheckpointQuery, FieldsQuery, PageQuery, listView } from '../pagination.js';

// Auth0 database-connection options; unknown option keys are stored as sent (Auth0 has many).
const Options = Type.Object(
  {
    passwordPolicy: Type.Optional(
      Type.Union([Type.Enum(['none', 'low', 'fair', 'good', 'excellent']), Type.Null()]),
    ),
    password_complexity_options: Type.Optional(
      Type.Union([
        Type.Object(
          { min_length: Type.Optional(Type.Integer({ minimum: 1, maximum: 128 })) },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    // Auth0: custom words besides its built-in list, up to 200 entries.
    password_dictionary: Type.Optional(
      Type.Union([
        Type.Object(
          {
            enable: Type.Boolean(),
            dictionary: Type.Optional(
              Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 200 }),
            ),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    password_no_personal_info: Type.Optional(
      Type.Union([Type.Object({ enable: Type.Boolean() }, { additionalProperties: false }), Type.Null()]),
    ),
    // Auth0 keeps up to 24 previous passwords per user.
    password_history: Type.Optional(
      Type.Union([
        Type.Object(
          { enable: Type.Boolean(), size: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 })) },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    requires_username: Type.Optional(Type.Boolean()),
    brute_force_protection: Type.Optional(Type.Boolean()),
    // Auth0's passkey settings of a database connection (native passkeys, the login page's offer).
    passkey_options: Type.Optional(
      Type.Union([
        Type.Object(
          {
            challenge_ui: Type.Optional(Type.Enum(['both', 'autofill', 'button'])),
            local_enrollment_enabled: Type.Optional(Type.Boolean()),
            progressive_enrollment_enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    authentication_methods: Type.Optional(
      Type.Union([
        Type.Object(
          {
            password: Type.Optional(Type.Object({ enabled: Type.Boolean() }, { additionalProperties: true })),
            passkey: Type.Optional(Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false })),
          },
          // Auth0 has more methods (email_otp, phone_otp, …), stored as sent.
          { additionalProperties: true, maxProperties: 10 },
        ),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: true, maxProperties: 100 },
);

// Auth0: at most 10 string values of up to 255 characters.
const Metadata = FreeKeyMap(Type.String({ maxLength: 255 }), {
  maxProperties: 10,
  keys: { maxLength: 255 },
});

const Name = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$',
});
const ClientIds = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 });
const Active = Type.Object({ active: Type.Boolean() }, { additionalProperties: false });

/** Top-level connection fields Auth0 documents besides name, strategy, options and enabled_clients. */
const settings = {
  display_name: Type.Optional(Type.String({ maxLength: 128 })),
  metadata: Type.Optional(Metadata),
  is_domain_connection: Type.Optional(Type.Boolean()),
  show_as_button: Type.Optional(Type.Boolean()),
  realms: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 10 })),
  authentication: Type.Optional(Active),
  connected_accounts: Type.Optional(
    Type.Object(
      {
        active: Type.Boolean(),
        cross_app_access: Type.Optional(Type.Boolean()),
        allow_missing_user_id: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  ),
  cross_app_access_requesting_app: Type.Optional(Active),
};
const ResourceApp = Type.Object(
  { status: Type.String({ minLength: 1, maxLength: 32 }) },
  { additionalProperties: false },
);

/** Settings stored beside the options and answered at the top level, as Auth0 does. */
export const SETTING_FIELDS = [...Object.keys(settings), 'cross_app_access_resource_app'];

export const ConnectionCreate = Type.Object(
  {
    name: Name,
    strategy: Type.Literal('auth0'),
    options: Type.Optional(Options),
    enabled_clients: Type.Optional(ClientIds),
    ...settings,
    cross_app_access_resource_app: Type.Optional(ResourceApp),
  },
  { additionalProperties: false },
);
export type ConnectionCreate = Static<typeof ConnectionCreate>;

export const ConnectionUpdate = Type.Object(
  {
    // Auth0 compat: null options or enabled_clients empty them.
    options: Type.Optional(Type.Union([Options, Type.Null()])),
    enabled_clients: Type.Optional(Type.Union([ClientIds, Type.Null()])),
    ...settings,
    cross_app_access_resource_app: Type.Optional(Type.Union([ResourceApp, Type.Null()])),
  },
  { additionalProperties: false },
);
export type ConnectionUpdate = Static<typeof ConnectionUpdate>;

export const ConnectionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
/** Auth0 docs, GET /api/v2/connections: offset or checkpoint paging, repeatable strategy, name, fields. */
export const ConnectionListQuery = Type.Object(
  {
    ...PageQuery,
    ...CheckpointQuery,
    ...FieldsQuery,
    strategy: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 })),
    name: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type ConnectionListQuery = Static<typeof ConnectionListQuery>;

/** GET /api/v2/connections/{id}/clients pages by checkpoint only. */
export const EnabledClientsQuery = Type.Object(CheckpointQuery, { additionalProperties: false });
export const EnabledClientsView = Type.Object({
  clients: Type.Array(Type.Object({ client_id: Type.String() })),
  next: Type.Optional(Type.String()),
});
/** Auth0 docs, PATCH /api/v2/connections/{id}/clients: at most 50 changes per request. */
export const EnabledClientsUpdate = Type.Array(
  Type.Object(
    { client_id: Type.String({ minLength: 1, maxLength: 64 }), status: Type.Boolean() },
    { additionalProperties: false },
  ),
  { minItems: 1, maxItems: 50 },
);
export type EnabledClientsUpdate = Static<typeof EnabledClientsUpdate>;

export const ConnectionGetQuery = Type.Object(FieldsQuery, { additionalProperties: false });

const OpenObject = Type.Object({}, { additionalProperties: true });
export const ConnectionView = Type.Object({
  id: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  display_name: Type.Optional(Type.String()),
  strategy: Type.Optional(Type.String()),
  options: Type.Optional(OpenObject),
  enabled_clients: Type.Optional(Type.Array(Type.String())),
  realms: Type.Optional(Type.Array(Type.String())),
  is_domain_connection: Type.Optional(Type.Boolean()),
  show_as_button: Type.Optional(Type.Boolean()),
  metadata: Type.Optional(OpenObject),
  authentication: Type.Optional(OpenObject),
  connected_accounts: Type.Optional(OpenObject),
  cross_app_access_requesting_app: Type.Optional(OpenObject),
  cross_app_access_resource_app: Type.Optional(OpenObject),
});
export type ConnectionView = Static<typeof ConnectionView>;

export const ConnectionListView = listView('connections', ConnectionView, { checkpoint: true });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function toConnectionView(c: Connection): ConnectionView {
  const isSetting = ([key]: [string, unknown]) => SETTING_FIELDS.includes(key);
  const entries = Object.entries(c.options);
  const options = Object.fromEntries(entries.filter((e) => !isSetting(e)));
  const lifted = Object.fromEntries(entries.filter(isSetting));
  const {
    display_name: displayName,
    metadata,
    is_domain_connection: domain,
    show_as_button: button,
  } = lifted;
  return {
    id: c.id,
    name: c.name,
    ...(typeof displayName === 'string' ? { display_name: displayName } : {}),
    strategy: c.strategy,
    options,
    enabled_clients: [...c.enabledClients],
    realms: [c.name],
    is_domain_connection: domain === true,
    ...(typeof button === 'boolean' ? { show_as_button: button } : {}),
    ...(isStringMap(metadata) ? { metadata } : {}),
    ...Object.fromEntries(
      [
        'authentication',
        'connected_accounts',
        'cross_app_access_requesting_app',
        'cross_app_access_resource_app',
      ]
        .filter((k) => isObject(lifted[k]))
        .map((k) => [k, lifted[k]]),
    ),
  };
}

// Rows written before options.metadata was refused may hold anything there; never let one break a list.
function isStringMap(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((v) => typeof v === 'string');
}
