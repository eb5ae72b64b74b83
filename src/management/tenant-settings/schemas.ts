import { Type, type Static } from 'typebox';
import { FreeKeyMap } from '../maps.js';
import { FieldsQuery } from '../pagination.js';

const Urls = Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 100 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

// Auth0 compat: the plain string settings can be unset by sending null.
const settings = {
  friendly_name: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  picture_url: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  support_email: Type.Optional(Nullable(Type.String({ maxLength: 255, format: 'email' }))),
  support_url: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  default_audience: Type.Optional(Nullable(Type.String({ maxLength: 600 }))),
  default_directory: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
  allowed_logout_urls: Type.Optional(Urls),
  session_lifetime: Type.Optional(Type.Number({ minimum: 1, maximum: 8760 })),
  idle_session_lifetime: Type.Optional(Type.Number({ minimum: 1, maximum: 8760 })),
  // Auth0 knows a fixed set of flags, all snake_case.
  flags: Type.Optional(
    FreeKeyMap(Type.Boolean(), { maxProperties: 100, keys: { maxLength: 100, pattern: '^[a-z0-9_]+$' } }),
  ),
  enabled_locales: Type.Optional(Type.Array(Type.String({ minLength: 2, maxLength: 10 }), { maxItems: 100 })),
  allow_organization_name_in_authentication_api: Type.Optional(Type.Boolean()),
  resource_parameter_profile: Type.Optional(
    Type.Union([Type.Literal('audience'), Type.Literal('compatibility')]),
  ),
  sessions: Type.Optional(
    Type.Object(
      { oidc_logout_prompt_enabled: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
  ),
  oidc_logout: Type.Optional(
    Type.Object(
      { rp_logout_end_session_endpoint_discovery: Type.Boolean() },
      { additionalProperties: false },
    ),
  ),
};

export const TenantSettingsUpdate = Type.Object(settings, { additionalProperties: false });
export type TenantSettingsUpdate = Static<typeof TenantSettingsUpdate>;

/** Allow-list of the settings we answer with; anything else stored on the tenant stays internal. */
export const TenantSettingsView = Type.Object(settings);
export type TenantSettingsView = Static<typeof TenantSettingsView>;

export const TenantSettingsQuery = Type.Object(FieldsQuery, { additionalProperties: false });

export function toTenantSettingsView(settings: Readonly<Record<string, unknown>>): TenantSettingsView {
  return { ...settings };
}
