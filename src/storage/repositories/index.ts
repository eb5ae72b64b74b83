import type { DbOrTx, DialectName, Storage } from '../db.js';
import type { CompiledQueries } from '../precompiled.js';
import { createUserRepository, SEARCH_TIMEOUT_MS, type UserSearchOptions } from './users.js';
import { createRoleRepository } from './roles.js';
import { createRefreshTokenRepository } from './refresh-tokens.js';
import { createConsentRepository } from './consents.js';
import { createLoginFailureRepository } from './login-failures.js';
import { createPasswordHistoryRepository } from './password-history.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { createClientGrantRepository } from './client-grants.js';
import { createClientRepository } from './clients.js';
import { createResourceServerRepository } from './resource-servers.js';
import { createSigningKeyRepository } from './signing-keys.js';
import { createTenantRepository } from './tenants.js';
import { createConnectionRepository } from './connections.js';
import { createOneTimeValueRepository } from './one-time-values.js';
import { createLogRepository } from './logs.js';
import { createLogStreamRepository } from './log-streams.js';
import { createSessionRepository } from './sessions.js';
import { createMfaEnrolmentRepository } from './mfa-enrolments.js';
import { createPasskeyRepository } from './passkeys.js';
import { createDeviceCredentialRepository } from './device-credentials.js';

function createRepositoriesOn(
  db: DbOrTx,
  tenantId: string,
  box: SecretBox,
  dialect: DialectName,
  search: UserSearchOptions,
  compiled: CompiledQueries,
) {
  return {
    users: createUserRepository(db, tenantId, dialect, search, compiled),
    roles: createRoleRepository(db, tenantId, dialect),
    refreshTokens: createRefreshTokenRepository(db, tenantId),
    consents: createConsentRepository(db, tenantId),
    loginFailures: createLoginFailureRepository(db, tenantId, compiled),
    passwordHistory: createPasswordHistoryRepository(db, tenantId),
    tenants: createTenantRepository(db, tenantId, dialect),
    connections: createConnectionRepository(db, tenantId),
    resourceServers: createResourceServerRepository(db, tenantId, box),
    clients: createClientRepository(db, tenantId, box),
    clientGrants: createClientGrantRepository(db, tenantId),
    signingKeys: createSigningKeyRepository(db, tenantId, box),
    oneTimeValues: createOneTimeValueRepository(db, tenantId, compiled),
    logs: createLogRepository(db, tenantId, dialect, search),
    logStreams: createLogStreamRepository(db, tenantId, box),
    sessions: createSessionRepository(db, tenantId, compiled),
    passkeys: createPasskeyRepository(db, tenantId),
    mfaEnrolments: createMfaEnrolmentRepository(db, tenantId, box),
    deviceCredentials: createDeviceCredentialRepository(db, tenantId),
  };
}
export type Repositories = ReturnType<typeof createRepositoriesOn>;

export interface Store extends Repositories {
  /** Runs `work` in one transaction with repositories bound to it. */
  transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
}

export interface StoreOptions {
  /** How long a user search may run before it is stopped (Auth0: 2 s). */
  readonly searchTimeoutMs?: number;
}

export function createStore(
  storage: Storage,
  tenantId: string,
  box: SecretBox,
  options: StoreOptions = {},
): Store {
  const search = { reads: storage.searchReads, timeoutMs: options.searchTimeoutMs ?? SEARCH_TIMEOUT_MS };
  // The sign-in's queries, compiled once for the store and every transaction's repositories.
  const compiled: CompiledQueries = new Map();
  return {
    ...createRepositoriesOn(storage.db, tenantId, box, storage.dialect, search, compiled),
    transaction: (work) =>
      storage.db
        .transaction()
        .execute((trx) => work(createRepositoriesOn(trx, tenantId, box, storage.dialect, search, compiled))),
  };
}
