import { Type, type Static, type TSchema } from 'typebox';
import { FreeKeyMap } from '../maps.js';
import { FieldsQuery } from '../pagination.js';

const Urls = Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 100 });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Closed = <P extends Parameters<typeof Type.Object>[0]>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });
const Html = Type.String({ maxLength: 100_000 });
const Page = Closed({ enabled: Type.Optional(Type.Boolean()), html: Type.Optional(Html) });
const Hours = Type.Number({ exclusiveMinimum: 0, maximum: 8760 });
const Minutes = Type.Integer({ minimum: 1, maximum: 525_600 });
const TokenQuota = Closed({
  client_credentials: Closed({
    enforce: Type.Optional(Type.Boolean()),
    per_day: Type.Optional(Type.Integer({ minimum: 1 })),
    per_hour: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
});
const OpenObject = Type.Object({}, { additionalProperties: true });

/**
 * Every setting Auth0 documents for PATCH /api/v2/tenants/settings. Latchkey acts on default_directory,
 * default_audience, flags.remove_alg_from_jwks and (with SSO sessions) the session lifetimes; the others are
 * stored and returned as Auth0 does. One setting is Latchkey's own: mfa_step_up_max_age_in_minutes.
 */
const settings = {
  // Auth0 compat: the plain string settings can be unset by sending null.
  friendly_name: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  picture_url: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  support_email: Type.Optional(Nullable(Type.String({ maxLength: 255, format: 'email' }))),
  support_url: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  default_audience: Type.Optional(Nullable(Type.String({ maxLength: 600 }))),
  default_directory: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
  default_redirection_uri: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  allowed_logout_urls: Type.Optional(Urls),
  // Auth0 knows a fixed set of flags, all snake_case.
  flags: Type.Optional(
    FreeKeyMap(Type.Boolean(), { maxProperties: 100, keys: { maxLength: 100, pattern: '^[a-z0-9_]+$' } }),
  ),
  enabled_locales: Type.Optional(Type.Array(Type.String({ minLength: 2, maxLength: 10 }), { maxItems: 100 })),
  change_password: Type.Optional(Nullable(Page)),
  guardian_mfa_page: Type.Optional(Nullable(Page)),
  error_page: Type.Optional(
    Nullable(
      Closed({
        html: Type.Optional(Html),
        show_log_link: Type.Optional(Type.Boolean()),
        url: Type.Optional(Type.String({ maxLength: 2000 })),
      }),
    ),
  ),
  device_flow: Type.Optional(
    Nullable(
      Closed({
        charset: Type.Optional(Type.Union([Type.Literal('base20'), Type.Literal('digits')])),
        mask: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
      }),
    ),
  ),
  default_token_quota: Type.Optional(
    Nullable(Closed({ clients: Type.Optional(TokenQuota), organizations: Type.Optional(TokenQuota) })),
  ),
  sandbox_version: Type.Optional(Type.String({ maxLength: 20 })),
  legacy_sandbox_version: Type.Optional(Type.String({ maxLength: 20 })),
  security_headers: Type.Optional(
    Nullable(
      Closed({
        content_security_policy: Type.Optional(Nullable(OpenObject)),
        x_xss_protection: Type.Optional(Nullable(OpenObject)),
      }),
    ),
  ),
  session_cookie: Type.Optional(
    Nullable(Closed({ mode: Type.Union([Type.Literal('persistent'), Type.Literal('non-persistent')]) })),
  ),
  sessions: Type.Optional(
    Nullable(
      Closed({
        oidc_logout_prompt_enabled: Type.Optional(Type.Boolean()),
        anonymous: Type.Optional(
          Nullable(
            Closed({
              lifetime_in_minutes: Type.Optional(Minutes),
              activate_cookie: Type.Optional(Type.Boolean()),
            }),
          ),
        ),
      }),
    ),
  ),
  oidc_logout: Type.Optional(
    Closed({ rp_logout_end_session_endpoint_discovery: Type.Optional(Type.Boolean()) }),
  ),
  customize_mfa_in_postlogin_action: Type.Optional(Nullable(Type.Boolean())),
  allow_organization_name_in_authentication_api: Type.Optional(Nullable(Type.Boolean())),
  acr_values_supported: Type.Optional(
    Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
  ),
  mtls: Type.Optional(Nullable(Closed({ enable_endpoint_aliases: Type.Optional(Type.Boolean()) }))),
  pushed_authorization_requests_supported: Type.Optional(Nullable(Type.Boolean())),
  authorization_response_iss_parameter_supported: Type.Optional(Nullable(Type.Boolean())),
  skip_non_verifiable_callback_uri_confirmation_prompt: Type.Optional(Nullable(Type.Boolean())),
  resource_parameter_profile: Type.Optional(
    Type.Union([Type.Literal('audience'), Type.Literal('compatibility')]),
  ),
  client_id_metadata_document_supported: Type.Optional(Type.Boolean()),
  enable_ai_guide: Type.Optional(Type.Boolean()),
  phone_consolidated_experience: Type.Optional(Type.Boolean()),
  include_session_metadata_in_tenant_logs: Type.Optional(Type.Boolean()),
  dynamic_client_registration_security_mode: Type.Optional(
    Type.Union([Type.Literal('strict'), Type.Literal('permissive')]),
  ),
  // Latchkey's own: step-up (RFC 9470) for writes that opt in, such as enrolling or deleting authentication
  // methods through /me/v1.
  mfa_step_up_max_age_in_minutes: Type.Optional(
    Nullable(
      Type.Integer({
        minimum: 1,
        maximum: 1440,
        description:
          'Step-up: enrolling and deleting authentication methods through the My Account API (and any API that opts in) requires a second factor completed within this many minutes (access token amr with "mfa" and a recent auth_time). null or absent: off.',
      }),
    ),
  ),
  country_codes: Type.Optional(
    Nullable(
      Closed({
        list: Type.Optional(Type.Array(Type.String({ minLength: 2, maxLength: 2 }), { maxItems: 300 })),
        mode: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny')])),
      }),
    ),
  ),
};

/** Session lifetimes: Auth0 takes hours or minutes on PATCH and answers in hours. */
const lifetimesInHours = {
  session_lifetime: Type.Optional(Hours),
  idle_session_lifetime: Type.Optional(Hours),
  ephemeral_session_lifetime: Type.Optional(Hours),
  idle_ephemeral_session_lifetime: Type.Optional(Hours),
};
const lifetimesInMinutes = {
  session_lifetime_in_minutes: Type.Optional(Minutes),
  idle_session_lifetime_in_minutes: Type.Optional(Minutes),
  ephemeral_session_lifetime_in_minutes: Type.Optional(Minutes),
  idle_ephemeral_session_lifetime_in_minutes: Type.Optional(Minutes),
};

export const TenantSettingsUpdate = Type.Object(
  { ...settings, ...lifetimesInHours, ...lifetimesInMinutes },
  { additionalProperties: false },
);
export type TenantSettingsUpdate = Static<typeof TenantSettingsUpdate>;

/** Allow-list of the settings we answer with; anything else stored on the tenant stays internal. */
export const TenantSettingsView = Type.Object({
  ...settings,
  ...lifetimesInHours,
  sandbox_versions_available: Type.Optional(Type.Array(Type.String())),
});
export type TenantSettingsView = Static<typeof TenantSettingsView>;

export const TenantSettingsQuery = Type.Object(FieldsQuery, { additionalProperties: false });

/** The four lifetimes, stored in minutes, answered in hours (Auth0's GET has no `*_in_minutes`). */
export const LIFETIMES = [
  'session_lifetime',
  'idle_session_lifetime',
  'ephemeral_session_lifetime',
  'idle_ephemeral_session_lifetime',
] as const;

export function toTenantSettingsView(settings: Readonly<Record<string, unknown>>): TenantSettingsView {
  const inMinutes = new Set<string>(LIFETIMES.map((name) => `${name}_in_minutes`));
  const view: Record<string, unknown> = Object.fromEntries(
    Object.entries(settings).filter(([key]) => !inMinutes.has(key)),
  );
  for (const name of LIFETIMES) {
    const minutes = settings[`${name}_in_minutes`];
    if (typeof minutes === 'number') view[name] = minutes / 60;
  }
  return view;
}
