import type { Repositories, Store } from '../storage/repositories/index.js';
import type { Clock } from '../lib/clock.js';
import type { Ids } from '../lib/ids.js';
import { hexId } from '../lib/ids.js';
import type { SigningKey } from '../domain/signing-key.js';
import { DEFAULT_DIRECTORY_OPTIONS } from '../domain/connection.js';
import type { Client } from '../domain/client.js';
import type { ResourceServer } from '../domain/resource-server.js';
import { DEFAULT_TOKEN_LIFETIME, DEFAULT_TOKEN_LIFETIME_FOR_WEB } from '../domain/resource-server.js';
import { DEFAULT_CONNECTION_NAME } from '../domain/tenant.js';
import { MANAGEMENT_API_NAME, MANAGEMENT_SCOPES, managementAudience } from '../management/scopes.js';

export interface BootstrapInput {
  readonly tenantId: string;
  readonly issuer: string;
  readonly bootstrapClientId: string | undefined;
  readonly bootstrapClientSecret: string | undefined;
}

export interface BootstrapDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly generateKey: (state: 'current' | 'next') => Promise<SigningKey>;
}

export interface BootstrapResult {
  /** Set only when this start generated the bootstrap client: print it once. */
  readonly generatedClient: { clientId: string; clientSecret: string } | undefined;
}

/** Brings a tenant to its minimal working state; safe to run at every start and on every node. */
export async function bootstrapTenant(input: BootstrapInput, deps: BootstrapDeps): Promise<BootstrapResult> {
  const now = new Date(deps.clock.now()).toISOString();
  // Key generation is slow; do it before the transaction so the write stays short.
  const existingKeys = await deps.store.signingKeys.list();
  const newKeys = existingKeys.some((k) => k.state === 'current')
    ? []
    : [await deps.generateKey('current'), await deps.generateKey('next')];

  return deps.store.transaction(async (repos) => {
    await repos.tenants.ensure(defaultTenantSettings(), now);
    // Nodes starting together take turns, so each sees what the one before it wrote.
    await repos.tenants.lock();
    const keysNow = await repos.signingKeys.list();
    if (!keysNow.some((k) => k.state === 'current')) {
      for (const key of newKeys) await repos.signingKeys.insert(key);
    }
    await ensureManagementApi(repos, input.tenantId, input.issuer, now);
    if (!(await repos.connections.findByName(DEFAULT_CONNECTION_NAME))) {
      await repos.connections.insert({
        tenantId: input.tenantId,
        id: deps.ids.prefixed('con'),
        name: DEFAULT_CONNECTION_NAME,
        strategy: 'auth0',
        options: DEFAULT_DIRECTORY_OPTIONS,
        enabledClients: [],
        createdAt: now,
        updatedAt: now,
      });
    }
    const generated = await ensureBootstrapClient(repos, input, deps.ids, now);
    return { generatedClient: generated };
  });
}

function defaultTenantSettings(): Record<string, unknown> {
  return {
    friendly_name: 'Latchkey',
    default_directory: DEFAULT_CONNECTION_NAME,
    default_audience: '',
    session_lifetime: 168,
    idle_session_lifetime: 72,
    enabled_locales: ['en'],
    flags: {},
  };
}

async function ensureManagementApi(
  repos: Repositories,
  tenantId: string,
  issuer: string,
  now: string,
): Promise<void> {
  const identifier = managementAudience(issuer);
  const scopes = MANAGEMENT_SCOPES.map((value) => ({ value }));
  const existing = await repos.resourceServers.findByIdentifier(identifier);
  if (existing) {
    await repos.resourceServers.update({ ...existing, scopes, name: MANAGEMENT_API_NAME, isSystem: true });
    return;
  }
  const api: ResourceServer = {
    tenantId,
    id: hexId(),
    identifier,
    name: MANAGEMENT_API_NAME,
    isSystem: true,
    scopes,
    signingAlg: 'RS256',
    signingSecret: undefined,
    allowOfflineAccess: false,
    skipConsentForVerifiableFirstPartyClients: false,
    tokenLifetime: DEFAULT_TOKEN_LIFETIME,
    tokenLifetimeForWeb: DEFAULT_TOKEN_LIFETIME_FOR_WEB,
    enforcePolicies: false,
    tokenDialect: 'access_token',
    userPolicy: 'allow_all',
    clientPolicy: 'require_client_grant',
    extra: {},
    createdAt: now,
    updatedAt: now,
  };
  await repos.resourceServers.insert(api);
}

async function ensureBootstrapClient(
  repos: Repositories,
  input: BootstrapInput,
  ids: Ids,
  now: string,
): Promise<BootstrapResult['generatedClient']> {
  const tenant = await repos.tenants.find();
  let generated: BootstrapResult['generatedClient'];
  const knownId = input.bootstrapClientId ?? tenant?.bootstrapClientId;
  const existing = knownId === undefined ? undefined : await repos.clients.findById(knownId);
  const clientId = knownId ?? ids.clientId();
  if (existing) {
    const repaired = usableBootstrapClient(existing, input.bootstrapClientSecret);
    if (repaired !== existing) await repos.clients.update({ ...repaired, updatedAt: now });
  } else {
    const clientSecret = input.bootstrapClientSecret ?? ids.clientSecret();
    if (input.bootstrapClientSecret === undefined) generated = { clientId, clientSecret };
    await repos.clients.insert(bootstrapClient(input.tenantId, clientId, clientSecret, now));
  }
  if (tenant?.bootstrapClientId !== clientId) await repos.tenants.setBootstrapClientId(clientId);
  await ensureFullManagementGrant(repos, input, clientId, ids, now);
  return generated;
}

/**
 * A restart is the way back in: whatever was changed through the API, the bootstrap client can again get a
 * Management token by client credentials. Switching it to private_key_jwt is kept (a deliberate hardening).
 * @returns `client` itself when nothing needed repair.
 */
function usableBootstrapClient(client: Client, configuredSecret: string | undefined): Client {
  const next: Client = {
    ...client,
    clientSecret: configuredSecret ?? client.clientSecret,
    grantTypes: client.grantTypes.includes('client_credentials')
      ? client.grantTypes
      : [...client.grantTypes, 'client_credentials'],
    isFirstParty: true,
    isSystem: true,
    tokenEndpointAuthMethod:
      client.tokenEndpointAuthMethod === 'none' ? 'client_secret_post' : client.tokenEndpointAuthMethod,
  };
  const changed = (Object.keys(next) as (keyof Client)[]).some((k) => next[k] !== client[k]);
  return changed ? next : client;
}

function bootstrapClient(tenantId: string, clientId: string, clientSecret: string, now: string): Client {
  return {
    tenantId,
    clientId,
    clientSecret,
    name: 'Latchkey Bootstrap (Management API)',
    appType: 'non_interactive',
    isFirstParty: true,
    // Marks the client that accepts both client_secret_post and client_secret_basic.
    isSystem: true,
    tokenEndpointAuthMethod: 'client_secret_post',
    privateKeyJwtCredentialIds: [],
    grantTypes: ['client_credentials'],
    settings: {},
    createdAt: now,
    updatedAt: now,
  };
}

async function ensureFullManagementGrant(
  repos: Repositories,
  input: BootstrapInput,
  clientId: string,
  ids: Ids,
  now: string,
): Promise<void> {
  const audience = managementAudience(input.issuer);
  const scope = [...MANAGEMENT_SCOPES];
  const grants = await repos.clientGrants.list(
    { clientId, audience, subjectType: 'client' },
    { offset: 0, limit: 1 },
  );
  const grant = grants[0];
  if (grant) {
    await repos.clientGrants.update({ ...grant, scope });
    return;
  }
  await repos.clientGrants.insert({
    tenantId: input.tenantId,
    id: ids.prefixed('cgr'),
    clientId,
    audience,
    scope,
    subjectType: 'client',
    defaultFor: null,
    allowAllScopes: false,
    organizationUsage: null,
    allowAnyOrganization: null,
    authorizationDetailsTypes: [],
    isSystem: false,
    createdAt: now,
  });
}
