import { Type, type Static } from 'typebox';
import type { ClientGrant } from '../../domain/client-grant.js';
import { CheckpointQuery, PageQuery, listView } from '../pagination.js';

const OrgUsage = Type.Union([Type.Literal('deny'), Type.Literal('allow'), Type.Literal('require')]);
// Duplicates are refused, not stored as sent. Auth0's answer to them was not found; this is its
// payload-validation 400 for a uniqueItems array.
const Scopes = Type.Array(Type.String({ minLength: 1, maxLength: 280 }), {
  maxItems: 1000,
  uniqueItems: true,
});
const DetailTypes = Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
  maxItems: 100,
  uniqueItems: true,
});

export const ClientGrantCreate = Type.Object(
  {
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    default_for: Type.Optional(Type.Literal('third_party_clients')),
    audience: Type.String({ minLength: 1, maxLength: 600 }),
    scope: Type.Optional(Scopes),
    organization_usage: Type.Optional(OrgUsage),
    allow_any_organization: Type.Optional(Type.Boolean()),
    subject_type: Type.Optional(Type.Union([Type.Literal('client'), Type.Literal('user')])),
    authorization_details_types: Type.Optional(DetailTypes),
    allow_all_scopes: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ClientGrantCreate = Static<typeof ClientGrantCreate>;

// Auth0 docs: scope and allow_all_scopes are nullable on PATCH (null empties the scopes, clears the flag).
export const ClientGrantUpdate = Type.Object(
  {
    scope: Type.Optional(Type.Union([Scopes, Type.Null()])),
    organization_usage: Type.Optional(Type.Union([OrgUsage, Type.Null()])),
    allow_any_organization: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    authorization_details_types: Type.Optional(DetailTypes),
    allow_all_scopes: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  },
  { additionalProperties: false },
);
export type ClientGrantUpdate = Static<typeof ClientGrantUpdate>;

export const ClientGrantParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const ClientGrantListQuery = Type.Object(
  {
    ...PageQuery,
    ...CheckpointQuery,
    audience: Type.Optional(Type.String({ maxLength: 600 })),
    client_id: Type.Optional(Type.String({ maxLength: 64 })),
    allow_any_organization: Type.Optional(Type.Literal(true)),
    subject_type: Type.Optional(Type.Union([Type.Literal('client'), Type.Literal('user')])),
    default_for: Type.Optional(Type.Literal('third_party_clients')),
  },
  { additionalProperties: false },
);
export type ClientGrantListQuery = Static<typeof ClientGrantListQuery>;

export const ClientGrantView = Type.Object({
  id: Type.String(),
  client_id: Type.Optional(Type.String()),
  default_for: Type.Optional(Type.String()),
  audience: Type.String(),
  scope: Type.Array(Type.String()),
  organization_usage: Type.Optional(Type.String()),
  allow_any_organization: Type.Optional(Type.Boolean()),
  is_system: Type.Boolean(),
  subject_type: Type.String(),
  authorization_details_types: Type.Array(Type.String()),
  allow_all_scopes: Type.Boolean(),
});
export type ClientGrantView = Static<typeof ClientGrantView>;

export const ClientGrantListView = listView('client_grants', ClientGrantView, { checkpoint: true });

export function toClientGrantView(g: ClientGrant): ClientGrantView {
  return {
    id: g.id,
    ...(g.clientId !== null ? { client_id: g.clientId } : {}),
    ...(g.defaultFor !== null ? { default_for: g.defaultFor } : {}),
    audience: g.audience,
    scope: [...g.scope],
    ...(g.organizationUsage !== null ? { organization_usage: g.organizationUsage } : {}),
    ...(g.allowAnyOrganization !== null ? { allow_any_organization: g.allowAnyOrganization } : {}),
    is_system: g.isSystem,
    subject_type: g.subjectType,
    authorization_details_types: [...g.authorizationDetailsTypes],
    allow_all_scopes: g.allowAllScopes,
  };
}
