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
      Type.Object(
        { min_length: Type.Optional(Type.Integer({ minimum: 1, maximum: 128 })) },
        { additionalProperties: false },
      ),
    ),
    requires_username: Type.Optional(Type.Boolean()),
    brute_force_protection: Type.Optional(Type.Boolean()),
    passkey_options: Type.Optional(Type.Object({}, { additionalProperties: true })),
    authentication_methods: Type.Optional(Type.Object({}, { additionalProperties: true })),
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

export const ConnectionCreate = Type.Object(
  {
    name: Name,
    strategy: Type.Literal('auth0'),
    display_name: Type.Optional(Type.String({ maxLength: 128 })),
    options: Type.Optional(Options),
    enabled_clients: Type.Optional(ClientIds),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type ConnectionCreate = Static<typeof ConnectionCreate>;

export const ConnectionUpdate = Type.Object(
  {
    display_name: Type.Optional(Type.String({ maxLength: 128 })),
    options: Type.Optional(Options),
    enabled_clients: Type.Optional(ClientIds),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type ConnectionUpdate = Static<typeof ConnectionUpdate>;

export const ConnectionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const ConnectionListQuery = Type.Object(
  {
    ...PageQuery,
    ...CheckpointQuery,
    ...FieldsQuery,
    strategy: Type.Optional(Type.String({ maxLength: 64 })),
    name: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type ConnectionListQuery = Static<typeof ConnectionListQuery>;

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
  metadata: Type.Optional(OpenObject),
});
export type ConnectionView = Static<typeof ConnectionView>;

export const ConnectionListView = listView('connections', ConnectionView, { checkpoint: true });

export function toConnectionView(c: Connection): ConnectionView {
  const { display_name: displayName, metadata, ...options } = c.options as Record<string, unknown>;
  return {
    id: c.id,
    name: c.name,
    ...(typeof displayName === 'string' ? { display_name: displayName } : {}),
    strategy: c.strategy,
    options,
    enabled_clients: [...c.enabledClients],
    realms: [c.name],
    is_domain_connection: false,
    ...(isStringMap(metadata) ? { metadata } : {}),
  };
}

// Rows written before options.metadata was refused may hold anything there; never let one break a list.
function isStringMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}
