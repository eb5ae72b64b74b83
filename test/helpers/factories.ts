import type { Client } from '../../src/domain/client.js';
import type { ClientGrant } from '../../src/domain/client-grant.js';
import type { ResourceServer } from '../../src/domain/resource-server.js';
import type { User } from '../../src/domain/user.js';
import { hashPassword } from '../../src/users/passwords.js';
import { randomAlphanumeric } from '../../src/lib/ids.js';
import type { Deps } from '../../src/server/deps.js';
import { ownIdentityOf, type OwnIdentityFields } from './store.js';

/** Persisting factories with safe defaults; each call makes a new record. */
export function createFactories(deps: Deps) {
  const now = () => new Date(deps.clock.now()).toISOString();
  return {
    async client(over: Partial<Client> = {}): Promise<Client> {
      const client: Client = {
        tenantId: deps.tenantId,
        clientId: randomAlphanumeric(32),
        clientSecret: randomAlphanumeric(48),
        name: 'Test app',
        appType: 'non_interactive',
        isFirstParty: true,
        isSystem: false,
        tokenEndpointAuthMethod: 'client_secret_post',
        privateKeyJwtCredentialIds: [],
        grantTypes: ['client_credentials'],
        settings: {},
        createdAt: now(),
        updatedAt: now(),
        ...over,
      };
      await deps.store.clients.insert(client);
      return client;
    },
    async api(over: Partial<ResourceServer> = {}): Promise<ResourceServer> {
      const api: ResourceServer = {
        tenantId: deps.tenantId,
        id: randomAlphanumeric(24).toLowerCase(),
        identifier: `https://api-${randomAlphanumeric(8).toLowerCase()}.example.com/`,
        name: 'Test API',
        isSystem: false,
        scopes: [{ value: 'read:things' }, { value: 'write:things' }, { value: 'delete:things' }],
        signingAlg: 'RS256',
        signingSecret: undefined,
        allowOfflineAccess: false,
        skipConsentForVerifiableFirstPartyClients: false,
        tokenLifetime: 86_400,
        tokenLifetimeForWeb: 7_200,
        enforcePolicies: false,
        tokenDialect: 'access_token',
        userPolicy: 'allow_all',
        clientPolicy: 'require_client_grant',
        extra: {},
        createdAt: now(),
        updatedAt: now(),
        ...over,
      };
      await deps.store.resourceServers.insert(api);
      return api;
    },
    /** A database user whose password is `password` (hashed with argon2id unless a hash is given). */
    async user(over: Partial<User> & OwnIdentityFields & { password?: string } = {}): Promise<User> {
      const { password, connection, passwordHash, ...rest } = over;
      const id = randomAlphanumeric(24).toLowerCase();
      const root = {
        tenantId: deps.tenantId,
        userId: `auth0|${id}`,
        email: `${id}@example.com`,
        emailVerified: true,
        username: undefined,
        phoneNumber: undefined,
        phoneVerified: false,
        name: 'Test User',
        givenName: 'Test',
        familyName: 'User',
        nickname: 'tester',
        picture: 'https://example.com/p.png',
        userMetadata: {},
        appMetadata: {},
        lastPasswordReset: undefined,
        blocked: false,
        loginsCount: 0,
        lastLogin: undefined,
        lastIp: undefined,
        createdAt: now(),
        updatedAt: now(),
        ...rest,
      };
      const user: User = {
        identities: [
          ownIdentityOf(
            root,
            connection ?? 'Username-Password-Authentication',
            passwordHash ?? (await hashPassword(password ?? 'Pass-word-123')),
          ),
        ],
        ...root,
      };
      await deps.store.transaction((repos) => repos.users.insert(user));
      return user;
    },
    /** Lets `clientId` log users in through the connection (Auth0's enabled_clients). */
    async enableConnection(clientId: string, name = 'Username-Password-Authentication'): Promise<void> {
      const connection = await deps.store.connections.findByName(name);
      if (!connection) throw new Error(`no connection ${name}`);
      await deps.store.connections.update({
        ...connection,
        enabledClients: [...connection.enabledClients, clientId],
      });
      // As the Management API's connection writes do: cached connections are cleared.
      deps.lookups.invalidate();
    },
    async grant(over: Partial<ClientGrant> & Pick<ClientGrant, 'audience'>): Promise<ClientGrant> {
      const grant: ClientGrant = {
        tenantId: deps.tenantId,
        id: `cgr_${randomAlphanumeric(16)}`,
        clientId: null,
        scope: [],
        subjectType: 'client',
        defaultFor: null,
        allowAllScopes: false,
        organizationUsage: null,
        allowAnyOrganization: null,
        authorizationDetailsTypes: [],
        isSystem: false,
        createdAt: now(),
        ...over,
      };
      await deps.store.clientGrants.insert(grant);
      return grant;
    },
  };
}
export type Factories = ReturnType<typeof createFactories>;
