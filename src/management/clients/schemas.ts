import { Type, type Static, type TSchema } from 'typebox';
import type { Client, ClientCredential } from '../../domain/client.js';
import { FreeKeyMap } from '../maps.js';
import { CheckpointQuery, FieldsQuery, PageQuery, listView } from '../pagination.js';

const GRANT_TYPES = [
  'authorization_code',
  'implicit',
  'refresh_token',
  'client_credentials',
  'password',
  'http://auth0.com/oauth/grant-type/password-realm',
  'http://auth0.com/oauth/grant-type/mfa-oob',
  'http://auth0.com/oauth/grant-type/mfa-otp',
  'http://auth0.com/oauth/grant-type/mfa-recovery-code',
  'http://auth0.com/oauth/grant-type/passwordless/otp',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:okta:params:oauth:grant-type:webauthn',
] as const;

const Str = (max = 2000) => Type.String({ maxLength: max });
const Urls = Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 200 });
const OpenObject = Type.Object({}, { additionalProperties: true });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const JwtConfiguration = Type.Object(
  {
    lifetime_in_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_592_000 })),
    secret_encoded: Type.Optional(Type.Boolean()),
    scopes: Type.Optional(OpenObject),
    alg: Type.Optional(Type.Enum(['HS256', 'RS256', 'RS512', 'PS256'])),
  },
  { additionalProperties: false },
);

const RefreshToken = Type.Object(
  {
    rotation_type: Type.Optional(Type.Enum(['rotating', 'non-rotating'])),
    expiration_type: Type.Optional(Type.Enum(['expiring', 'non-expiring'])),
    leeway: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    token_lifetime: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_557_600 })),
    infinite_token_lifetime: Type.Optional(Type.Boolean()),
    idle_token_lifetime: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_557_600 })),
    infinite_idle_token_lifetime: Type.Optional(Type.Boolean()),
    policies: Type.Optional(
      Type.Array(
        Type.Object(
          { audience: Str(600), scope: Type.Array(Str(280), { uniqueItems: true }) },
          { additionalProperties: false },
        ),
        { maxItems: 20 },
      ),
    ),
  },
  { additionalProperties: false },
);

const CredentialIds = Type.Array(Type.Object({ id: Str(64) }, { additionalProperties: false }), {
  minItems: 1,
  maxItems: 2,
});
/** mTLS client authentication: Auth0 documents it, Latchkey refuses it (no mTLS) in the service. */
const tlsMethods = {
  tls_client_auth: Type.Optional(OpenObject),
  self_signed_tls_client_auth: Type.Optional(OpenObject),
};
const AuthMethods = Type.Union([
  Type.Object(
    {
      private_key_jwt: Type.Optional(
        Type.Object({ credentials: CredentialIds }, { additionalProperties: false }),
      ),
      ...tlsMethods,
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

export const CredentialCreate = Type.Object(
  {
    credential_type: Type.Literal('public_key'),
    name: Type.Optional(Type.String({ maxLength: 128 })),
    pem: Type.String({ minLength: 1, maxLength: 10_000 }),
    alg: Type.Optional(Type.Enum(['RS256', 'RS384', 'PS256'])),
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
    parse_expiry_from_cert: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CredentialCreate = Static<typeof CredentialCreate>;

/** Auth0 docs, POST /clients: private_key_jwt credentials are created with the client. */
const CreateAuthMethods = Type.Object(
  {
    private_key_jwt: Type.Optional(
      Type.Object(
        { credentials: Type.Array(CredentialCreate, { minItems: 1, maxItems: 2 }) },
        { additionalProperties: false },
      ),
    ),
    ...tlsMethods,
  },
  { additionalProperties: false },
);

const APP_TYPES = [
  'native',
  'spa',
  'regular_web',
  'non_interactive',
  'resource_server',
  'express_configuration',
  'rms',
  'box',
  'cloudbees',
  'concur',
  'dropbox',
  'mscrm',
  'echosign',
  'egnyte',
  'newrelic',
  'office365',
  'salesforce',
  'sentry',
  'sharepoint',
  'slack',
  'springcm',
  'zendesk',
  'zoom',
  'sso_integration',
  'oag',
] as const;

/** Settings stored as sent in the client's `settings` object (everything without its own column). */
const settings = {
  description: Type.Optional(Str(140)),
  logo_uri: Type.Optional(Str()),
  oidc_conformant: Type.Optional(Type.Boolean()),
  callbacks: Type.Optional(Urls),
  allowed_origins: Type.Optional(Urls),
  web_origins: Type.Optional(Urls),
  allowed_logout_urls: Type.Optional(Urls),
  client_aliases: Type.Optional(Type.Array(Str(), { maxItems: 100 })),
  allowed_clients: Type.Optional(Type.Array(Str(), { maxItems: 100 })),
  jwt_configuration: Type.Optional(JwtConfiguration),
  refresh_token: Type.Optional(Type.Union([RefreshToken, Type.Null()])),
  organization_usage: Type.Optional(Type.Enum(['deny', 'allow', 'require'])),
  organization_require_behavior: Type.Optional(
    Type.Enum(['no_prompt', 'pre_login_prompt', 'post_login_prompt']),
  ),
  require_proof_of_possession: Type.Optional(Type.Boolean()),
  require_pushed_authorization_requests: Type.Optional(Type.Boolean()),
  sso: Type.Optional(Type.Boolean()),
  sso_disabled: Type.Optional(Type.Boolean()),
  cross_origin_authentication: Type.Optional(Type.Boolean()),
  // Auth0: at most 10 keys; keys and values up to 255 characters; key names alphanumeric plus
  // :,-+=_*?"/\()<>@, tab and space.
  client_metadata: Type.Optional(
    FreeKeyMap(Type.String({ maxLength: 255 }), {
      maxProperties: 10,
      keys: { minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9 \\t:,+=_*?"/\\\\()<>@-]+$' },
    }),
  ),
  mobile: Type.Optional(OpenObject),
  initiate_login_uri: Type.Optional(Str()),
  redirection_policy: Type.Optional(Type.Enum(['allow_always', 'open_redirect_protection'])),
  third_party_security_mode: Type.Optional(Type.Enum(['strict', 'permissive'])),
  // Stored and returned as Auth0 does; Latchkey has no login pages, organizations or add-ons yet.
  oidc_logout: Type.Optional(OpenObject),
  oidc_backchannel_logout: Type.Optional(OpenObject),
  session_transfer: Type.Optional(Nullable(OpenObject)),
  is_token_endpoint_ip_header_trusted: Type.Optional(Type.Boolean()),
  encryption_key: Type.Optional(Nullable(OpenObject)),
  cross_origin_loc: Type.Optional(Nullable(Str())),
  custom_login_page_on: Type.Optional(Type.Boolean()),
  custom_login_page: Type.Optional(Str(100_000)),
  custom_login_page_preview: Type.Optional(Str(100_000)),
  form_template: Type.Optional(Str(100_000)),
  addons: Type.Optional(OpenObject),
  native_social_login: Type.Optional(Nullable(OpenObject)),
  fedcm_login: Type.Optional(Nullable(OpenObject)),
  default_organization: Type.Optional(Nullable(OpenObject)),
  organization_discovery_methods: Type.Optional(
    Nullable(Type.Array(Type.Enum(['email', 'organization_name']), { maxItems: 2 })),
  ),
  signed_request_object: Type.Optional(OpenObject),
  token_vault_privileged_access: Type.Optional(OpenObject),
  compliance_level: Type.Optional(
    Nullable(
      Type.Enum([
        'none',
        'fapi1_adv_pkj_par',
        'fapi1_adv_mtls_par',
        'fapi2_sp_pkj_mtls',
        'fapi2_sp_mtls_mtls',
      ]),
    ),
  ),
  skip_non_verifiable_callback_uri_confirmation_prompt: Type.Optional(Nullable(Type.Boolean())),
  token_exchange: Type.Optional(Nullable(OpenObject)),
  par_request_expiry: Type.Optional(Nullable(Type.Integer({ minimum: 5, maximum: 600 }))),
  token_quota: Type.Optional(Nullable(OpenObject)),
  identity_assertion_authorization_grant: Type.Optional(Nullable(OpenObject)),
  anonymous_sessions: Type.Optional(Nullable(OpenObject)),
  express_configuration: Type.Optional(Nullable(OpenObject)),
  my_organization_configuration: Type.Optional(Nullable(OpenObject)),
  async_approval_notification_channels: Type.Optional(Nullable(OpenObject)),
};
export const SETTINGS_FIELDS = Object.keys(settings);

const columns = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  app_type: Type.Optional(Type.Enum(APP_TYPES)),
  is_first_party: Type.Optional(Type.Boolean()),
  // Duplicates are refused (Auth0's answer to them was not found; this is its uniqueItems 400).
  grant_types: Type.Optional(
    Type.Array(Type.Enum(GRANT_TYPES), { maxItems: GRANT_TYPES.length, uniqueItems: true }),
  ),
  token_endpoint_auth_method: Type.Optional(
    Type.Union([Type.Enum(['none', 'client_secret_post', 'client_secret_basic']), Type.Null()]),
  ),
};

export const ClientCreate = Type.Object(
  {
    ...columns,
    ...settings,
    name: Type.String({ minLength: 1, maxLength: 255 }),
    resource_server_identifier: Type.Optional(Str(600)),
    client_authentication_methods: Type.Optional(CreateAuthMethods),
  },
  { additionalProperties: false },
);
export type ClientCreate = Static<typeof ClientCreate>;

export const ClientUpdate = Type.Object(
  {
    ...columns,
    ...settings,
    client_secret: Type.Optional(Type.String({ minLength: 16, maxLength: 200 })),
    client_authentication_methods: Type.Optional(AuthMethods),
  },
  { additionalProperties: false },
);
export type ClientUpdate = Static<typeof ClientUpdate>;

export const ClientParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const CredentialParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  credential_id: Type.String({ minLength: 1, maxLength: 64 }),
});

/** Auth0 docs, GET /api/v2/clients: offset or checkpoint paging, fields, and these filters. */
export const ClientListQuery = Type.Object(
  {
    ...PageQuery,
    ...CheckpointQuery,
    ...FieldsQuery,
    is_global: Type.Optional(Type.Boolean()),
    is_first_party: Type.Optional(Type.Boolean()),
    app_type: Type.Optional(Str(500)),
    external_client_id: Type.Optional(Str(2000)),
    q: Type.Optional(Str(1000)),
  },
  { additionalProperties: false },
);
export type ClientListQuery = Static<typeof ClientListQuery>;
export const ClientGetQuery = Type.Object(FieldsQuery, { additionalProperties: false });

export const ClientView = Type.Object(
  {
    client_id: Type.Optional(Type.String()),
    tenant: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    client_secret: Type.Optional(Type.String()),
    app_type: Type.Optional(Type.String()),
    is_first_party: Type.Optional(Type.Boolean()),
    grant_types: Type.Optional(Type.Array(Type.String())),
    token_endpoint_auth_method: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    client_authentication_methods: Type.Optional(OpenObject),
    ...Object.fromEntries(SETTINGS_FIELDS.map((k) => [k, Type.Optional(Type.Unknown())])),
    resource_server_identifier: Type.Optional(Type.String()),
    global: Type.Optional(Type.Boolean()),
    created_at: Type.Optional(Type.String()),
    updated_at: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ClientView = Record<string, unknown>;

export const ClientListView = listView('clients', ClientView, { checkpoint: true });

export function toClientView(client: Client, tenant: string, withSecret: boolean): ClientView {
  const pkjwt = client.privateKeyJwtCredentialIds;
  return {
    tenant,
    global: false,
    client_id: client.clientId,
    name: client.name,
    ...(withSecret ? { client_secret: client.clientSecret } : {}),
    ...(client.appType !== undefined ? { app_type: client.appType } : {}),
    is_first_party: client.isFirstParty,
    grant_types: [...client.grantTypes],
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    ...(pkjwt.length > 0
      ? { client_authentication_methods: { private_key_jwt: { credentials: pkjwt.map((id) => ({ id })) } } }
      : {}),
    ...client.settings,
  };
}

export const CredentialUpdate = Type.Object(
  { expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]) },
  { additionalProperties: false },
);

export const CredentialView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kid: Type.String(),
  alg: Type.String(),
  credential_type: Type.String(),
  thumbprint: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  expires_at: Type.Optional(Type.String()),
});

export function toCredentialView(c: ClientCredential): Static<typeof CredentialView> {
  return {
    id: c.id,
    name: c.name,
    kid: c.kid,
    alg: c.alg,
    credential_type: c.credentialType,
    thumbprint: c.thumbprint,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    ...(c.expiresAt !== undefined ? { expires_at: c.expiresAt } : {}),
  };
}
