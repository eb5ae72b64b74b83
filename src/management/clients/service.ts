import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { Client, ClientCredential, TokenEndpointAuthMethod } from '../../domain/client.js';
import { BadRequest, NotFound } from '../../errors/api.js';
import { assertUrlList } from '../urls.js';
import type { Deps } from '../../server/deps.js';
import type { Repositories } from '../../storage/repositories/index.js';
import type { ClientFilter } from '../../storage/repositories/clients.js';
import { SETTINGS_FIELDS, type ClientCreate, type ClientUpdate, type CredentialCreate } from './schemas.js';

const notFound = () => new NotFound('inexistent_client', 'The client does not exist');
const credentialNotFound = () => new NotFound('not_found', 'The credential does not exist');

/** Auth0's grant types per application type when none are given. */
function defaultGrantTypes(appType: string | undefined): string[] {
  switch (appType) {
    case 'non_interactive':
      return ['client_credentials'];
    case 'spa':
    case 'native':
      return ['authorization_code', 'implicit', 'refresh_token'];
    default:
      return ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'];
  }
}

const DEFAULT_REFRESH_TOKEN = {
  rotation_type: 'non-rotating',
  expiration_type: 'non-expiring',
  leeway: 0,
  token_lifetime: 2_592_000,
  infinite_token_lifetime: true,
  idle_token_lifetime: 1_296_000,
  infinite_idle_token_lifetime: true,
};

export function createClientService(deps: Deps) {
  const { store } = deps;
  const now = () => new Date(deps.clock.now()).toISOString();

  async function get(clientId: string, repos: Repositories = store): Promise<Client> {
    const client = await repos.clients.findById(clientId);
    if (!client) throw notFound();
    return client;
  }

  async function toCredential(
    clientId: string,
    body: CredentialCreate,
    at: string,
  ): Promise<ClientCredential> {
    const { key, notAfter } = parsePublicKey(body.pem);
    const thumbprint = await calculateJwkThumbprint(key.export({ format: 'jwk' }));
    const expiresAt = body.expires_at ?? (body.parse_expiry_from_cert === true ? notAfter : undefined);
    return {
      id: deps.ids.prefixed('cred'),
      clientId,
      name: body.name ?? '',
      credentialType: 'public_key',
      pem: body.pem,
      alg: body.alg ?? 'RS256',
      kid: thumbprint,
      thumbprint,
      createdAt: at,
      updatedAt: at,
      expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt).toISOString(),
    };
  }

  return {
    get,

    /** One offset page of the clients matching `query`, with the total. */
    async list(query: ClientListFilter, page: { offset: number; limit: number }) {
      const filter = toRepositoryFilter(query, false);
      if (filter === undefined) return { items: [], total: 0 };
      const [items, total] = await Promise.all([
        store.clients.list(filter, page),
        store.clients.count(filter),
      ]);
      return { items, total };
    },

    /** Checkpoint paging: up to `limit` clients matching `query` after the client id `afterId`. */
    async listAfter(query: ClientListFilter, afterId: string | undefined, limit: number) {
      const filter = toRepositoryFilter(query, true);
      return filter === undefined ? [] : store.clients.listAfter(filter, afterId, limit);
    },

    async create(body: ClientCreate): Promise<Client> {
      assertUrls(body);
      const at = now();
      const appType = body.app_type;
      const publicApp = appType === 'spa' || appType === 'native';
      const settings: Record<string, unknown> = {
        oidc_conformant: true,
        callbacks: [],
        allowed_origins: [],
        web_origins: [],
        allowed_logout_urls: [],
        jwt_configuration: { lifetime_in_seconds: 36_000, secret_encoded: false, alg: 'RS256' },
        refresh_token: DEFAULT_REFRESH_TOKEN,
        sso_disabled: false,
        cross_origin_authentication: false,
        ...pickSettings(body),
      };
      settings['jwt_configuration'] = {
        lifetime_in_seconds: 36_000,
        secret_encoded: false,
        alg: 'RS256',
        ...body.jwt_configuration,
      };
      if (body.refresh_token) settings['refresh_token'] = { ...DEFAULT_REFRESH_TOKEN, ...body.refresh_token };
      if (body.resource_server_identifier !== undefined)
        settings['resource_server_identifier'] = body.resource_server_identifier;
      const methods = body.client_authentication_methods;
      assertNoMtls(methods);
      const clientId = deps.ids.clientId();
      const credentials = await Promise.all(
        (methods?.private_key_jwt?.credentials ?? []).map((c) => toCredential(clientId, c, at)),
      );
      if (credentials.length > 0 && body.token_endpoint_auth_method !== undefined) {
        throw new BadRequest(
          'invalid_body',
          'Payload validation error: token_endpoint_auth_method must not be sent when private_key_jwt is enabled.',
        );
      }
      const client: Client = {
        tenantId: deps.tenantId,
        clientId,
        clientSecret: deps.ids.clientSecret(),
        name: body.name,
        appType,
        isFirstParty: body.is_first_party ?? true,
        isSystem: false,
        tokenEndpointAuthMethod:
          credentials.length > 0
            ? null
            : (body.token_endpoint_auth_method ?? (publicApp ? 'none' : 'client_secret_post')),
        privateKeyJwtCredentialIds: credentials.map((c) => c.id),
        grantTypes: body.grant_types ?? defaultGrantTypes(appType),
        settings,
        createdAt: at,
        updatedAt: at,
      };
      // Like Auth0's dashboard, a new application can use the tenant's default directory at once.
      await store.transaction(async (repos) => {
        // enabled_clients is read, extended and written back: one writer at a time.
        await repos.tenants.lock();
        await repos.clients.insert(client);
        for (const credential of credentials) await repos.clients.insertCredential(credential);
        const directory = (await repos.tenants.find())?.settings['default_directory'];
        const connection =
          typeof directory === 'string' ? await repos.connections.findByName(directory) : undefined;
        if (connection) {
          await repos.connections.update({
            ...connection,
            enabledClients: [...connection.enabledClients, client.clientId],
            updatedAt: at,
          });
        }
      });
      return client;
    },

    async update(clientId: string, body: ClientUpdate): Promise<Client> {
      assertUrls(body);
      return store.transaction(async (repos) => {
        // Whole-row read-modify-write: one writer at a time, or concurrent PATCHes undo each other.
        await repos.tenants.lock();
        const current = await get(clientId, repos);
        let method: TokenEndpointAuthMethod | null = current.tokenEndpointAuthMethod;
        let credentialIds = current.privateKeyJwtCredentialIds;
        const methods = body.client_authentication_methods;
        assertNoMtls(methods);
        if (methods !== undefined) {
          if (methods?.private_key_jwt === undefined) {
            credentialIds = [];
            method = body.token_endpoint_auth_method ?? 'client_secret_post';
          } else {
            const ids = methods.private_key_jwt.credentials.map((c) => c.id);
            const owned = new Set((await repos.clients.listCredentials(clientId)).map((c) => c.id));
            const unknown = ids.filter((id) => !owned.has(id));
            if (unknown.length > 0) {
              throw new BadRequest(
                'invalid_body',
                `Payload validation error: unknown credential ${unknown.join(', ')} for this client.`,
              );
            }
            if (body.token_endpoint_auth_method !== undefined && body.token_endpoint_auth_method !== null) {
              throw new BadRequest(
                'invalid_body',
                'Payload validation error: token_endpoint_auth_method must be null when private_key_jwt is enabled.',
              );
            }
            credentialIds = ids;
            method = null;
          }
        } else if (body.token_endpoint_auth_method !== undefined) {
          if (body.token_endpoint_auth_method === null && credentialIds.length === 0) {
            throw new BadRequest(
              'invalid_body',
              'Payload validation error: token_endpoint_auth_method may be null only with private_key_jwt credentials.',
            );
          }
          method = body.token_endpoint_auth_method;
          if (method !== null) credentialIds = [];
        }
        const settings = { ...current.settings, ...pickSettings(body) };
        if (body.jwt_configuration)
          settings['jwt_configuration'] = {
            ...(current.settings['jwt_configuration'] as object),
            ...body.jwt_configuration,
          };
        if (body.refresh_token)
          settings['refresh_token'] = {
            ...(current.settings['refresh_token'] as object),
            ...body.refresh_token,
          };
        const next: Client = {
          ...current,
          name: body.name ?? current.name,
          appType: body.app_type ?? current.appType,
          isFirstParty: body.is_first_party ?? current.isFirstParty,
          grantTypes: body.grant_types ?? current.grantTypes,
          clientSecret: body.client_secret ?? current.clientSecret,
          tokenEndpointAuthMethod: method,
          privateKeyJwtCredentialIds: credentialIds,
          settings,
          updatedAt: now(),
        };
        await repos.clients.update(next);
        return next;
      });
    },

    async remove(clientId: string): Promise<void> {
      await store.transaction(async (repos) => {
        await repos.tenants.lock();
        if (!(await repos.clients.delete(clientId))) throw notFound();
        // As on Auth0, a deleted application disappears from every connection's enabled_clients.
        for (const connection of await repos.connections.enabledFor(clientId)) {
          await repos.connections.update({
            ...connection,
            enabledClients: connection.enabledClients.filter((id) => id !== clientId),
            updatedAt: now(),
          });
        }
      });
    },

    async rotateSecret(clientId: string): Promise<Client> {
      return store.transaction(async (repos) => {
        await repos.tenants.lock();
        const current = await get(clientId, repos);
        const next = { ...current, clientSecret: deps.ids.clientSecret(), updatedAt: now() };
        await repos.clients.update(next);
        return next;
      });
    },

    async listCredentials(clientId: string): Promise<ClientCredential[]> {
      await get(clientId);
      return store.clients.listCredentials(clientId);
    },

    async getCredential(clientId: string, id: string): Promise<ClientCredential> {
      await get(clientId);
      const credential = await store.clients.findCredential(clientId, id);
      if (!credential) throw credentialNotFound();
      return credential;
    },

    async createCredential(clientId: string, body: CredentialCreate): Promise<ClientCredential> {
      await get(clientId);
      const credential = await toCredential(clientId, body, now());
      await store.clients.insertCredential(credential);
      return credential;
    },

    async updateCredential(
      clientId: string,
      id: string,
      expiresAt: string | null,
    ): Promise<ClientCredential> {
      return store.transaction(async (repos) => {
        const credential = await repos.clients.findCredential(clientId, id);
        if (!credential) throw credentialNotFound();
        const next = {
          ...credential,
          expiresAt: expiresAt === null ? undefined : new Date(expiresAt).toISOString(),
          updatedAt: now(),
        };
        await repos.clients.deleteCredential(clientId, id);
        await repos.clients.insertCredential(next);
        return next;
      });
    },

    async deleteCredential(clientId: string, id: string): Promise<void> {
      const client = await get(clientId);
      if (client.privateKeyJwtCredentialIds.includes(id)) {
        throw new BadRequest(
          'invalid_body',
          'The credential is enabled for private_key_jwt; switch it off in client_authentication_methods first.',
        );
      }
      if (!(await store.clients.deleteCredential(clientId, id))) throw credentialNotFound();
    },
  };
}

/** GET /clients filters as sent (Auth0 docs, GET /api/v2/clients). */
export interface ClientListFilter {
  readonly isGlobal?: boolean | undefined;
  readonly isFirstParty?: boolean | undefined;
  /** Comma-separated application types. */
  readonly appType?: string | undefined;
  readonly externalClientId?: string | undefined;
  /** Lucene query; Auth0 permits only two terms. */
  readonly q?: string | undefined;
}

const ORGANIZATION_TERM = /^client_grant\.organization_id:(\S+)$/;
const ANY_ORGANIZATION_TERM = 'client_grant.allow_any_organization:true';

/**
 * The SQL filter for a client list, or undefined when no client can match.
 * @throws BadRequest for a `q` Auth0 refuses: other terms, other filters beside it, or offset paging.
 */
function toRepositoryFilter(query: ClientListFilter, checkpoint: boolean): ClientFilter | undefined {
  if (query.q !== undefined) {
    const others = [query.isGlobal, query.isFirstParty, query.appType, query.externalClientId];
    if (others.some((v) => v !== undefined)) {
      throw new BadRequest(
        'invalid_query_string',
        'Query validation error: q cannot be combined with other filters.',
      );
    }
    if (!checkpoint) {
      throw new BadRequest('invalid_query_string', 'Query validation error: q requires from/take paging.');
    }
    const term = query.q.trim();
    // Auth0 compat: Latchkey has no organizations, so no client has a grant for one.
    if (ORGANIZATION_TERM.test(term)) return undefined;
    if (term === ANY_ORGANIZATION_TERM) return { withAnyOrganizationGrant: true };
    throw new BadRequest(
      'invalid_query_string',
      `Query validation error: q may only be client_grant.organization_id:{id} or ${ANY_ORGANIZATION_TERM}.`,
    );
  }
  // Auth0 compat: Latchkey has neither global clients nor clients registered from a metadata document.
  if (query.isGlobal === true || query.externalClientId !== undefined) return undefined;
  const appTypes = query.appType
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    ...(appTypes !== undefined && appTypes.length > 0 ? { appTypes } : {}),
    ...(query.isFirstParty !== undefined ? { isFirstParty: query.isFirstParty } : {}),
  };
}

/** @throws BadRequest operation_not_supported for mTLS client authentication, which Latchkey cannot check. */
function assertNoMtls(
  methods: { tls_client_auth?: unknown; self_signed_tls_client_auth?: unknown } | null | undefined,
) {
  if (methods?.tls_client_auth !== undefined || methods?.self_signed_tls_client_auth !== undefined) {
    throw new BadRequest(
      'operation_not_supported',
      'Latchkey does not support mTLS client authentication (tls_client_auth, self_signed_tls_client_auth).',
    );
  }
}

function pickSettings(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(SETTINGS_FIELDS.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));
}

function assertUrls(
  body: Pick<ClientUpdate, 'callbacks' | 'allowed_logout_urls' | 'web_origins' | 'allowed_origins'>,
): void {
  for (const field of ['callbacks', 'allowed_logout_urls', 'web_origins', 'allowed_origins'] as const) {
    assertUrlList(field, body[field]);
  }
}

const PUBLIC_PEM_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE']);

/**
 * The pem is stored as sent, so it must hold exactly one public block: `createPublicKey` would also
 * accept a private key (deriving its public half), and a certificate may be followed by its key.
 */
function assertSinglePublicBlock(pem: string): void {
  const labels = [...pem.matchAll(/-----BEGIN ([^-\r\n]*)-----/g)].map((m) => m[1] ?? '');
  if (labels.some((label) => label.includes('PRIVATE'))) {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: pem must not contain a private key; send the public key or certificate only.',
    );
  }
  if (labels.length !== 1 || !PUBLIC_PEM_LABELS.has(labels[0] ?? '')) {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: pem must be one PEM public key (SPKI or PKCS#1) or X.509 certificate.',
    );
  }
}

/** Accepts an SPKI or PKCS#1 public key or an X.509 certificate (RSA, at least 2048 bits). */
function parsePublicKey(pem: string): { key: KeyObject; notAfter: string | undefined } {
  assertSinglePublicBlock(pem);
  let key: KeyObject;
  let notAfter: string | undefined;
  try {
    if (pem.includes('CERTIFICATE')) {
      const cert = new X509Certificate(pem);
      key = cert.publicKey;
      // Throws (refused below) for a notAfter Date cannot hold, such as a leap second.
      notAfter = new Date(cert.validTo).toISOString();
    } else {
      key = createPublicKey(pem);
    }
  } catch {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: pem is not a PEM public key or certificate.',
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048) {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: pem must hold an RSA key of at least 2048 bits.',
    );
  }
  return { key, notAfter };
}
