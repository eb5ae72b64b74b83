/** Booleans are 0/1 integers and JSON is text on both engines, so one mapping serves both. */
type Bool = number;
type Json = string;

export interface TenantsTable {
  id: string;
  settings: Json;
  bootstrap_client_id: string | null;
  created_at: string;
}

export interface ConnectionsTable {
  tenant_id: string;
  id: string;
  name: string;
  strategy: string;
  options: Json;
  enabled_clients: Json;
  created_at: string;
  updated_at: string;
}

export interface ResourceServersTable {
  tenant_id: string;
  id: string;
  identifier: string;
  name: string;
  is_system: Bool;
  scopes: Json;
  signing_alg: string;
  signing_secret: string | null;
  allow_offline_access: Bool;
  skip_consent: Bool;
  token_lifetime: number;
  token_lifetime_for_web: number;
  enforce_policies: Bool;
  token_dialect: string;
  user_policy: string;
  client_policy: string;
  extra: Json;
  created_at: string;
  updated_at: string;
}

export interface ClientsTable {
  tenant_id: string;
  client_id: string;
  client_secret: string;
  name: string;
  app_type: string | null;
  is_first_party: Bool;
  is_system: Bool;
  token_endpoint_auth_method: string | null;
  private_key_jwt_credentials: Json;
  grant_types: Json;
  settings: Json;
  created_at: string;
  updated_at: string;
}

export interface ClientCredentialsTable {
  tenant_id: string;
  id: string;
  client_id: string;
  name: string;
  credential_type: string;
  pem: string;
  alg: string;
  kid: string;
  thumbprint: string;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
}

export interface ClientGrantsTable {
  tenant_id: string;
  id: string;
  client_id: string | null;
  audience: string;
  scope: Json;
  subject_type: string;
  default_for: string | null;
  allow_all_scopes: Bool;
  organization_usage: string | null;
  allow_any_organization: Bool | null;
  authorization_details_types: Json;
  is_system: Bool;
  created_at: string;
}

export interface SigningKeysTable {
  tenant_id: string;
  kid: string;
  alg: string;
  state: string;
  public_jwk: Json;
  private_key: string;
  cert: string;
  fingerprint: string;
  thumbprint: string;
  current_since: string | null;
  current_until: string | null;
  revoked_at: string | null;
  created_at: string;
  /** Creation order within the tenant. */
  seq: number;
}

/** Values that may be used once until they expire (codes, challenges, assertion jtis) when Redis is absent. */
export interface OneTimeValuesTable {
  tenant_id: string;
  key: string;
  value: string;
  expires_at: number;
}

/** An SSO session (the `auth0` cookie); the cookie value is stored only as its SHA-256. Times in epoch seconds. */
export interface SessionsTable {
  tenant_id: string;
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  authenticated_at: number;
  last_interaction_at: number;
  expires_at: number;
  idle_expires_at: number;
  revoked_at: number | null;
  ip: string | null;
  user_agent: string | null;
  /** JSON array of authentication method references (RFC 8176), null before migration 0013. */
  amr: string | null;
  mfa_at: number | null;
}

/** The applications an SSO session signed in to (Auth0's session `clients`). */
export interface SessionClientsTable {
  tenant_id: string;
  session_id: string;
  client_id: string;
  created_at: number;
}

/** A user's WebAuthn credential (passkey). */
/** Public keys of users' devices (seed 003, /api/v2/device-credentials). */
export interface DeviceCredentialsTable {
  tenant_id: string;
  id: string;
  user_id: string;
  client_id: string;
  device_id: string;
  device_name: string;
  type: string;
  value: string;
  created_at: string;
}

export interface MfaEnrolmentsTable {
  tenant_id: string;
  id: string;
  user_id: string;
  type: string;
  secret: string | null;
  code_hash: string | null;
  confirmed: number;
  name: string | null;
  created_at: string;
  enrolled_at: string | null;
  last_auth_at: string | null;
  /** The email address or phone number of an email or phone enrolment. */
  address: string | null;
  /** A phone enrolment's preferred channel: sms or voice. */
  channel: string | null;
}

export interface PasskeysTable {
  tenant_id: string;
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  counter: number;
  transports: string;
  device_type: string;
  backed_up: number;
  aaguid: string;
  user_handle: string;
  name: string | null;
  user_agent: string | null;
  created_at: string;
  last_used_at: string | null;
  /** While the account it was enrolled by is linked to this user: that account's id (migration 0015). */
  linked_from: string | null;
}

/** The user's root profile; how the user signs in lives in `identities`. */
export interface UsersTable {
  tenant_id: string;
  user_id: string;
  email: string | null;
  email_norm: string | null;
  email_verified: Bool;
  username: string | null;
  username_norm: string | null;
  phone_number: string | null;
  phone_verified: Bool;
  name: string | null;
  name_norm: string | null;
  given_name: string | null;
  family_name: string | null;
  nickname: string | null;
  picture: string | null;
  user_metadata: Json;
  app_metadata: Json;
  last_password_reset: string | null;
  blocked: Bool;
  logins_count: number;
  last_login: string | null;
  last_ip: string | null;
  created_at: string;
  updated_at: string;
}

/** One way a user signs in: `provider|identity_user_id` in a connection, with its login names and password. */
export interface IdentitiesTable {
  tenant_id: string;
  user_id: string;
  provider: string;
  identity_user_id: string;
  connection: string;
  is_social: Bool;
  email: string | null;
  email_norm: string | null;
  username: string | null;
  username_norm: string | null;
  password_hash: string | null;
  profile_data: Json;
  created_at: string;
  updated_at: string;
}

export interface RolesTable {
  tenant_id: string;
  id: string;
  name: string;
  description: string;
  created_at: string;
}

export interface RolePermissionsTable {
  tenant_id: string;
  role_id: string;
  resource_server_identifier: string;
  permission_name: string;
}

export interface UserRolesTable {
  tenant_id: string;
  user_id: string;
  role_id: string;
  created_at: string;
}

export interface UserPermissionsTable {
  tenant_id: string;
  user_id: string;
  resource_server_identifier: string;
  permission_name: string;
}

export interface RefreshTokensTable {
  tenant_id: string;
  id: string;
  token_hash: string;
  family_id: string;
  user_id: string;
  client_id: string;
  audience: string;
  scope: Json;
  rotating: Bool;
  created_at: number;
  expires_at: number | null;
  idle_expires_at: number | null;
  last_used_at: number | null;
  rotated_at: number | null;
  revoked_at: number | null;
  revoked_reason: string | null;
  initial_ip: string | null;
  initial_user_agent: string | null;
  last_ip: string | null;
  last_user_agent: string | null;
  /** RFC 9449 §5: the DPoP key a public client's token is bound to. */
  dpop_jkt: string | null;
  /** JSON array: how the sign-in that started the family authenticated (RFC 8176); null when unknown. */
  amr: string | null;
}

export interface ConsentsTable {
  tenant_id: string;
  id: string;
  user_id: string;
  client_id: string;
  audience: string;
  scope: Json;
  created_at: string;
  updated_at: string;
}

export interface LoginFailuresTable {
  tenant_id: string;
  /** The user id of the account a login name belongs to, or `login:{connection}:{name}` when none has it. */
  subject: string;
  ip: string;
  failures: number;
  window_start: number;
  blocked_until: number | null;
}

/** Passwords an identity used before its current one, kept while its connection's password_history is on. */
export interface PasswordHistoryTable {
  tenant_id: string;
  provider: string;
  identity_user_id: string;
  /** Counts up per identity: the order the passwords were replaced in. */
  seq: number;
  password_hash: string;
  created_at: string;
}

/** One Auth0 log event (`GET /api/v2/logs`), kept for the tenant's retention period. */
export interface LogsTable {
  tenant_id: string;
  log_id: string;
  /** When it happened, epoch milliseconds (ranges and retention). */
  at: number;
  type: string;
  description: string | null;
  client_id: string | null;
  client_name: string | null;
  connection: string | null;
  connection_id: string | null;
  strategy: string | null;
  strategy_type: string | null;
  user_id: string | null;
  user_name: string | null;
  audience: string | null;
  scope: string | null;
  ip: string | null;
  user_agent: string | null;
  hostname: string | null;
  details: Json | null;
}

/** An Auth0 log stream: where events are delivered besides the logs table. */
export interface LogStreamsTable {
  tenant_id: string;
  id: string;
  name: string;
  type: string;
  status: string;
  sink: Json;
  filters: Json | null;
  is_priority: Bool;
  pii_config: Json | null;
  created_at: string;
  updated_at: string;
}

export interface Database {
  tenants: TenantsTable;
  connections: ConnectionsTable;
  resource_servers: ResourceServersTable;
  clients: ClientsTable;
  client_credentials: ClientCredentialsTable;
  client_grants: ClientGrantsTable;
  signing_keys: SigningKeysTable;
  one_time_values: OneTimeValuesTable;
  users: UsersTable;
  identities: IdentitiesTable;
  roles: RolesTable;
  role_permissions: RolePermissionsTable;
  user_roles: UserRolesTable;
  user_permissions: UserPermissionsTable;
  refresh_tokens: RefreshTokensTable;
  consents: ConsentsTable;
  login_failures: LoginFailuresTable;
  password_history: PasswordHistoryTable;
  logs: LogsTable;
  log_streams: LogStreamsTable;
  sessions: SessionsTable;
  session_clients: SessionClientsTable;
  passkeys: PasskeysTable;
  mfa_enrolments: MfaEnrolmentsTable;
  device_credentials: DeviceCredentialsTable;
}
