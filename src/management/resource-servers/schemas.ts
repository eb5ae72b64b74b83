import { Type, type Static } from 'typebox';
import type { ResourceServer } from '../../domain/resource-server.js';
import { TOKEN_ENCRYPTION_ALGS, type TokenEncryption } from '../../oauth/tokens/token-encryption.js';
import { FieldsQuery, PageQuery, listView } from '../pagination.js';

const ScopeItem = Type.Object(
  {
    value: Type.String({ minLength: 1, maxLength: 280 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

const SubjectTypeAuthorization = Type.Object(
  {
    user: Type.Optional(
      Type.Object(
        {
          policy: Type.Union([
            Type.Literal('allow_all'),
            Type.Literal('require_client_grant'),
            Type.Literal('deny_all'),
          ]),
        },
        { additionalProperties: false },
      ),
    ),
    client: Type.Optional(
      Type.Object(
        { policy: Type.Union([Type.Literal('require_client_grant'), Type.Literal('deny_all')]) },
        { additionalProperties: false },
      ),
    ),
    // Stored and returned; Latchkey issues no tokens to anonymous users.
    anonymous_user: Type.Optional(
      Type.Object(
        { policy: Type.Union([Type.Literal('require_client_grant'), Type.Literal('deny_all')]) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const OpenObject = Type.Object({}, { additionalProperties: true });

/**
 * Auth0's JWE settings (docs: configure-json-web-encryption): the PEM is a public key or certificate, checked on
 * write and never returned; responses carry its thumbprint instead.
 */
const TokenEncryptionBody = Type.Object(
  {
    format: Type.Literal('compact-nested-jwe'),
    encryption_key: Type.Object(
      {
        name: Type.Optional(Type.String({ maxLength: 255 })),
        alg: Type.Union(TOKEN_ENCRYPTION_ALGS.map((alg) => Type.Literal(alg))),
        kid: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        pem: Type.String({ minLength: 1, maxLength: 16_384 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
const TokenEncryptionView = Type.Object({
  format: Type.String(),
  encryption_key: Type.Object({
    name: Type.Optional(Type.String()),
    alg: Type.String(),
    kid: Type.Optional(Type.String()),
    thumbprint_sha256: Type.Optional(Type.String()),
  }),
});

/** Fields Auth0 accepts and we store and echo (token_encryption and proof_of_possession are acted on). */
export const EXTRA_FIELDS = [
  'allow_online_access',
  'allow_online_access_with_ephemeral_sessions',
  'consent_policy',
  'authorization_details',
  'token_encryption',
  'proof_of_possession',
  'authorization_policy',
  'token_lifetime_for_anonymous_access_tokens',
] as const;
/** Where the extra fields keep subject_type_authorization.anonymous_user's policy. */
export const ANONYMOUS_USER_POLICY = 'anonymous_user_policy';

const mutable = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[^<>]+$' })),
  scopes: Type.Optional(Type.Array(ScopeItem, { maxItems: 1000 })),
  signing_alg: Type.Optional(
    Type.Union([Type.Literal('RS256'), Type.Literal('RS512'), Type.Literal('PS256'), Type.Literal('HS256')]),
  ),
  signing_secret: Type.Optional(Type.String({ minLength: 16, maxLength: 1000 })),
  allow_offline_access: Type.Optional(Type.Boolean()),
  skip_consent_for_verifiable_first_party_clients: Type.Optional(Type.Boolean()),
  token_lifetime: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_592_000 })),
  token_lifetime_for_web: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_592_000 })),
  token_lifetime_for_anonymous_access_tokens: Type.Optional(
    Nullable(Type.Integer({ minimum: 0, maximum: 2_592_000 })),
  ),
  enforce_policies: Type.Optional(Type.Boolean()),
  token_dialect: Type.Optional(
    Type.Union([
      Type.Literal('access_token'),
      Type.Literal('access_token_authz'),
      Type.Literal('rfc9068_profile'),
      Type.Literal('rfc9068_profile_authz'),
    ]),
  ),
  subject_type_authorization: Type.Optional(SubjectTypeAuthorization),
  allow_online_access: Type.Optional(Type.Boolean()),
  allow_online_access_with_ephemeral_sessions: Type.Optional(Type.Boolean()),
  consent_policy: Type.Optional(Nullable(Type.Literal('transactional-authorization-with-mfa'))),
  authorization_details: Type.Optional(Nullable(Type.Array(OpenObject, { maxItems: 100 }))),
  token_encryption: Type.Optional(Nullable(TokenEncryptionBody)),
  proof_of_possession: Type.Optional(
    Nullable(
      Type.Object(
        {
          mechanism: Type.Union([Type.Literal('mtls'), Type.Literal('dpop')]),
          required: Type.Boolean(),
          required_for: Type.Optional(
            Type.Union([Type.Literal('public_clients'), Type.Literal('all_clients')]),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  ),
  authorization_policy: Type.Optional(
    Nullable(Type.Object({ policy_id: Type.String() }, { additionalProperties: false })),
  ),
};

export const ResourceServerCreate = Type.Object(
  // A blank identifier is refused; any other is stored exactly as sent.
  { ...mutable, identifier: Type.String({ minLength: 1, maxLength: 600, pattern: '\\S' }) },
  { additionalProperties: false },
);
export type ResourceServerCreate = Static<typeof ResourceServerCreate>;

export const ResourceServerUpdate = Type.Object(mutable, { additionalProperties: false });
export type ResourceServerUpdate = Static<typeof ResourceServerUpdate>;

export const ResourceServerParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 700 }) });

export const ResourceServerListQuery = Type.Object(
  {
    ...PageQuery,
    include_fields: FieldsQuery.include_fields,
    fields: FieldsQuery.fields,
    identifiers: Type.Optional(Type.Array(Type.String({ maxLength: 600 }), { maxItems: 10 })),
  },
  { additionalProperties: false },
);
export type ResourceServerListQuery = Static<typeof ResourceServerListQuery>;

export const ResourceServerGetQuery = Type.Object(FieldsQuery, { additionalProperties: false });

export const ResourceServerView = Type.Object({
  id: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  identifier: Type.Optional(Type.String()),
  is_system: Type.Optional(Type.Boolean()),
  scopes: Type.Optional(
    Type.Array(Type.Object({ value: Type.String(), description: Type.Optional(Type.String()) })),
  ),
  signing_alg: Type.Optional(Type.String()),
  signing_secret: Type.Optional(Type.String()),
  allow_offline_access: Type.Optional(Type.Boolean()),
  skip_consent_for_verifiable_first_party_clients: Type.Optional(Type.Boolean()),
  token_lifetime: Type.Optional(Type.Integer()),
  token_lifetime_for_web: Type.Optional(Type.Integer()),
  enforce_policies: Type.Optional(Type.Boolean()),
  token_dialect: Type.Optional(Type.String()),
  subject_type_authorization: Type.Optional(
    Type.Object({
      user: Type.Object({ policy: Type.String() }),
      client: Type.Object({ policy: Type.String() }),
      anonymous_user: Type.Optional(Type.Object({ policy: Type.String() })),
    }),
  ),
  token_lifetime_for_anonymous_access_tokens: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  allow_online_access: Type.Optional(Type.Boolean()),
  allow_online_access_with_ephemeral_sessions: Type.Optional(Type.Boolean()),
  consent_policy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  authorization_details: Type.Optional(Type.Union([Type.Array(OpenObject), Type.Null()])),
  token_encryption: Type.Optional(Type.Union([TokenEncryptionView, Type.Null()])),
  proof_of_possession: Type.Optional(Type.Union([OpenObject, Type.Null()])),
  authorization_policy: Type.Optional(Type.Union([OpenObject, Type.Null()])),
});
export type ResourceServerView = Static<typeof ResourceServerView>;

export const ResourceServerListView = listView('resource_servers', ResourceServerView);

/** What Auth0 shows of an encryption key: everything but the key material. */
function toTokenEncryptionView(stored: unknown): Static<typeof TokenEncryptionView> | null {
  if (stored === null || typeof stored !== 'object') return null;
  // Values stored before keys were checked on write may lack any part of this shape.
  const { format, encryption_key: key } = stored as Partial<TokenEncryption>;
  const { pem: _pem, ...shown } = key ?? { alg: 'unknown' as TokenEncryption['encryption_key']['alg'] };
  return { format: String(format), encryption_key: shown };
}

export function toResourceServerView(rs: ResourceServer): ResourceServerView {
  const { [ANONYMOUS_USER_POLICY]: anonymous, token_encryption: encryption, ...extra } = rs.extra;
  return {
    id: rs.id,
    name: rs.name,
    identifier: rs.identifier,
    is_system: rs.isSystem,
    scopes: rs.scopes.map((s) => ({ ...s })),
    signing_alg: rs.signingAlg,
    ...(rs.signingAlg === 'HS256' && rs.signingSecret !== undefined
      ? { signing_secret: rs.signingSecret }
      : {}),
    allow_offline_access: rs.allowOfflineAccess,
    skip_consent_for_verifiable_first_party_clients: rs.skipConsentForVerifiableFirstPartyClients,
    token_lifetime: rs.tokenLifetime,
    token_lifetime_for_web: rs.tokenLifetimeForWeb,
    enforce_policies: rs.enforcePolicies,
    token_dialect: rs.tokenDialect,
    subject_type_authorization: {
      user: { policy: rs.userPolicy },
      client: { policy: rs.clientPolicy },
      ...(typeof anonymous === 'string' ? { anonymous_user: { policy: anonymous } } : {}),
    },
    ...(extra as Partial<ResourceServerView>),
    ...(encryption !== undefined ? { token_encryption: toTokenEncryptionView(encryption) } : {}),
  };
}
