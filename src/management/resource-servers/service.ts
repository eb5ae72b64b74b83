import { randomBytes } from 'node:crypto';
import type { ResourceServer } from '../../domain/resource-server.js';
import { DEFAULT_TOKEN_LIFETIME, DEFAULT_TOKEN_LIFETIME_FOR_WEB } from '../../domain/resource-server.js';
import { BadRequest, Conflict, NotFound } from '../../errors/api.js';
import { hexId } from '../../lib/ids.js';
import type { Repositories } from '../../storage/repositories/index.js';
import type { Deps } from '../../server/deps.js';
import { isUniqueViolation } from '../../storage/json.js';
import { EncryptionKeyError, readEncryptionKey } from '../../oauth/tokens/token-encryption.js';
import { managementAudience } from '../scopes.js';
import { MY_ACCOUNT_API_NAME, MY_ACCOUNT_SCOPES, myAccountAudience } from './my-account.js';
import {
  ANONYMOUS_USER_POLICY,
  EXTRA_FIELDS,
  type ResourceServerCreate,
  type ResourceServerUpdate,
} from './schemas.js';

/** Fields a system API (Management, My Account) lets an operator change (spec 2.1). */
const SYSTEM_UPDATABLE = new Set([
  'token_lifetime',
  'proof_of_possession',
  'skip_consent_for_verifiable_first_party_clients',
  'subject_type_authorization',
  'authorization_policy',
]);

// Spec §6.3: Auth0's exact errorCode for this 409 is unconfirmed; the message is the observed one.
const identifierConflict = () =>
  new Conflict('resource_server_conflict', 'A resource server with the same identifier already exists.');

const notFound = () => new NotFound('inexistent_resource_server', 'Resource server not found.');

export function createResourceServerService(deps: Deps) {
  const { store } = deps;
  const now = () => new Date(deps.clock.now()).toISOString();

  async function find(idOrIdentifier: string, repos: Repositories = store): Promise<ResourceServer> {
    const rs =
      (await repos.resourceServers.findById(idOrIdentifier)) ??
      (await repos.resourceServers.findByIdentifier(idOrIdentifier));
    if (!rs) throw notFound();
    return rs;
  }

  async function updateIn(
    repos: Repositories,
    current: ResourceServer,
    body: ResourceServerUpdate,
    encryption: StoredEncryption,
  ): Promise<ResourceServer> {
    if (current.isSystem) {
      const refused = Object.keys(body).filter((k) => !SYSTEM_UPDATABLE.has(k));
      if (refused.length > 0) {
        throw new BadRequest(
          'invalid_body',
          `Payload validation error: 'Additional properties not allowed: ${refused.join(', ')}'.`,
        );
      }
      const isMyAccount = current.identifier === myAccountAudience(deps.config.issuer);
      if (isMyAccount && body.subject_type_authorization?.client?.policy === 'require_client_grant') {
        throw myAccountClientPolicy();
      }
    }
    assertUniqueScopes(body.scopes);
    const signingAlg = body.signing_alg ?? current.signingAlg;
    const next: ResourceServer = {
      ...current,
      name: body.name ?? current.name,
      scopes: body.scopes ?? current.scopes,
      signingAlg,
      signingSecret:
        body.signing_secret ??
        (signingAlg === 'HS256'
          ? (current.signingSecret ?? randomBytes(32).toString('base64url'))
          : current.signingSecret),
      allowOfflineAccess: body.allow_offline_access ?? current.allowOfflineAccess,
      skipConsentForVerifiableFirstPartyClients:
        body.skip_consent_for_verifiable_first_party_clients ??
        current.skipConsentForVerifiableFirstPartyClients,
      tokenLifetime: body.token_lifetime ?? current.tokenLifetime,
      tokenLifetimeForWeb:
        body.token_lifetime_for_web ??
        Math.min(current.tokenLifetimeForWeb, body.token_lifetime ?? current.tokenLifetime),
      enforcePolicies: body.enforce_policies ?? current.enforcePolicies,
      tokenDialect: body.token_dialect ?? current.tokenDialect,
      userPolicy: body.subject_type_authorization?.user?.policy ?? current.userPolicy,
      clientPolicy: body.subject_type_authorization?.client?.policy ?? current.clientPolicy,
      extra: { ...current.extra, ...pickExtra(body, encryption) },
      updatedAt: now(),
    };
    assertLifetimes(next);
    await repos.resourceServers.update(next);
    return next;
  }

  return {
    /** Reads through the node's configuration cache, which every resource-server write clears. */
    async get(idOrIdentifier: string): Promise<ResourceServer> {
      const rs =
        (await deps.lookups.resourceServerById(idOrIdentifier)) ??
        (await deps.lookups.resourceServer(idOrIdentifier));
      if (!rs) throw notFound();
      return rs;
    },

    async list(page: { offset: number; limit: number }, identifiers: readonly string[]) {
      const [items, total] = await Promise.all([
        store.resourceServers.list(page, identifiers),
        store.resourceServers.count(identifiers),
      ]);
      return { items, total };
    },

    async create(body: ResourceServerCreate): Promise<ResourceServer> {
      const at = now();
      const isMyAccount = body.identifier === myAccountAudience(deps.config.issuer);
      if (body.identifier === managementAudience(deps.config.issuer)) {
        throw identifierConflict();
      }
      assertUniqueScopes(body.scopes);
      // Spec §6.1: the OAS text says HS256, Dashboard-created APIs use RS256; RS256 needs no shared secret.
      const signingAlg = body.signing_alg ?? 'RS256';
      const rs: ResourceServer = {
        tenantId: deps.tenantId,
        id: hexId(),
        identifier: body.identifier,
        name: isMyAccount ? MY_ACCOUNT_API_NAME : (body.name ?? body.identifier),
        isSystem: isMyAccount,
        scopes: isMyAccount ? MY_ACCOUNT_SCOPES.map((value) => ({ value })) : (body.scopes ?? []),
        signingAlg,
        signingSecret:
          signingAlg === 'HS256'
            ? (body.signing_secret ?? randomBytes(32).toString('base64url'))
            : body.signing_secret,
        allowOfflineAccess: body.allow_offline_access ?? false,
        skipConsentForVerifiableFirstPartyClients:
          body.skip_consent_for_verifiable_first_party_clients ?? false,
        tokenLifetime: body.token_lifetime ?? DEFAULT_TOKEN_LIFETIME,
        tokenLifetimeForWeb:
          body.token_lifetime_for_web ??
          Math.min(DEFAULT_TOKEN_LIFETIME_FOR_WEB, body.token_lifetime ?? DEFAULT_TOKEN_LIFETIME),
        enforcePolicies: body.enforce_policies ?? false,
        tokenDialect: body.token_dialect ?? 'access_token',
        // Seed 000: the My Account API starts least-privilege; other APIs default to allow_all / require_client_grant.
        userPolicy:
          body.subject_type_authorization?.user?.policy ??
          (isMyAccount ? 'require_client_grant' : 'allow_all'),
        clientPolicy: isMyAccount
          ? 'deny_all'
          : (body.subject_type_authorization?.client?.policy ?? 'require_client_grant'),
        extra: pickExtra(body, await checkedEncryption(body.token_encryption)),
        createdAt: at,
        updatedAt: at,
      };
      if (isMyAccount && body.subject_type_authorization?.client?.policy === 'require_client_grant') {
        throw myAccountClientPolicy();
      }
      assertLifetimes(rs);
      try {
        await store.resourceServers.insert(rs);
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw identifierConflict();
        }
        throw error;
      }
      return rs;
    },

    async update(idOrIdentifier: string, body: ResourceServerUpdate): Promise<ResourceServer> {
      const encryption = await checkedEncryption(body.token_encryption);
      // Read-modify-write of the whole row: one writer at a time, or concurrent PATCHes undo each other.
      return store.transaction(async (repos) => {
        await repos.tenants.lock();
        return updateIn(repos, await find(idOrIdentifier, repos), body, encryption);
      });
    },

    async remove(idOrIdentifier: string): Promise<void> {
      const rs = await find(idOrIdentifier);
      if (rs.identifier === managementAudience(deps.config.issuer)) {
        throw new BadRequest('operation_not_supported', 'System resource servers cannot be deleted.');
      }
      // Everything granted on the API goes with it, or recreating the identifier would bring it back.
      await store.transaction(async (repos) => {
        await repos.clientGrants.deleteByAudience(rs.identifier);
        await repos.roles.deletePermissionsOf(rs.identifier);
        await repos.consents.deleteByAudience(rs.identifier);
        await repos.refreshTokens.deleteByAudience(rs.identifier);
        await repos.resourceServers.delete(rs.id);
      });
    },
  };
}

/** `token_encryption` as stored: the checked key with its thumbprint (undefined: not in the request). */
type StoredEncryption = Record<string, unknown> | null | undefined;

/** @throws BadRequest when the key cannot encrypt access tokens. */
async function checkedEncryption(body: ResourceServerUpdate['token_encryption']): Promise<StoredEncryption> {
  if (body === undefined || body === null) return body;
  try {
    const { thumbprint } = await readEncryptionKey(body.encryption_key.pem);
    return { ...body, encryption_key: { ...body.encryption_key, thumbprint_sha256: thumbprint } };
  } catch (error) {
    if (!(error instanceof EncryptionKeyError)) throw error;
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: token_encryption.encryption_key.pem ${error.message}.`,
    );
  }
}

function pickExtra(body: ResourceServerUpdate, encryption: StoredEncryption): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const field of EXTRA_FIELDS) {
    if (body[field] !== undefined) extra[field] = body[field];
  }
  if (encryption !== undefined) extra['token_encryption'] = encryption;
  const anonymous = body.subject_type_authorization?.anonymous_user?.policy;
  if (anonymous !== undefined) extra[ANONYMOUS_USER_POLICY] = anonymous;
  return extra;
}

function assertUniqueScopes(scopes: ResourceServerUpdate['scopes']): void {
  if (!scopes) return;
  const values = scopes.map((s) => s.value);
  const duplicate = values.find((v, i) => values.indexOf(v) !== i);
  if (duplicate !== undefined) {
    throw new BadRequest(
      'invalid_body',
      `Payload validation error: 'scope ${duplicate} is defined more than once'.`,
    );
  }
}

function assertLifetimes(rs: ResourceServer): void {
  if (rs.tokenLifetimeForWeb > rs.tokenLifetime) {
    throw new BadRequest(
      'invalid_body',
      'Payload validation error: token_lifetime_for_web must not exceed token_lifetime.',
    );
  }
}

function myAccountClientPolicy(): BadRequest {
  return new BadRequest(
    'invalid_body',
    'Payload validation error: the My Account API does not allow client access (client policy is deny_all).',
  );
}
