import type { ClientGrant } from '../../domain/client-grant.js';
import type { ResourceServer } from '../../domain/resource-server.js';
import { BadRequest, Conflict, Forbidden, NotFound } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { isUniqueViolation } from '../../storage/json.js';
import type { ClientGrantFilter } from '../../storage/repositories/client-grants.js';
import { myAccountAudience } from '../resource-servers/my-account.js';
import type { ClientGrantCreate, ClientGrantUpdate } from './schemas.js';

const notFound = () => new NotFound('inexistent_grant', 'The grant does not exist.');
const invalid = (message: string) => new BadRequest('invalid_body', `Payload validation error: ${message}`);

export function createClientGrantService(deps: Deps) {
  const { store } = deps;

  function assertScopes(api: ResourceServer, scope: readonly string[]): void {
    const defined = new Set(api.scopes.map((s) => s.value));
    if (!scope.every((s) => defined.has(s)))
      throw invalid('scope must be a subset of resource server scopes');
  }

  const conflict = (body: {
    client_id?: string | undefined;
    default_for?: string | undefined;
    audience: string;
  }) =>
    new Conflict(
      'client_grant_conflict',
      `A client grant already exists between ${body.client_id ?? body.default_for ?? ''} and ${body.audience}`,
    );

  return {
    async get(id: string): Promise<ClientGrant> {
      const grant = await store.clientGrants.findById(id);
      if (!grant) throw notFound();
      return grant;
    },

    async list(filter: ClientGrantFilter, page: { offset: number; limit: number }, afterId?: string) {
      const [items, total] = await Promise.all([
        store.clientGrants.list(filter, page, afterId),
        store.clientGrants.count(filter),
      ]);
      return { items, total };
    },

    async create(body: ClientGrantCreate): Promise<ClientGrant> {
      if ((body.client_id === undefined) === (body.default_for === undefined)) {
        throw invalid('exactly one of client_id and default_for is required');
      }
      const api = await store.resourceServers.findByIdentifier(body.audience);
      if (!api)
        throw new NotFound('inexistent_resource_server', 'No resource server found by specified audience');
      const subjectType = body.subject_type ?? 'client';
      if (body.client_id !== undefined) {
        const client = await store.clients.findById(body.client_id);
        if (!client) throw new NotFound('inexistent_client', 'Client not found');
        // Seed 002: system APIs cannot be granted to third-party applications.
        if (!client.isFirstParty && api.isSystem)
          throw invalid('system APIs cannot be granted to third-party applications');
      } else if (api.isSystem) {
        throw invalid('system APIs do not support default_for grants');
      }
      if (api.identifier === myAccountAudience(deps.config.issuer) && subjectType === 'client') {
        throw invalid('the My Account API does not allow client access');
      }
      const scope = body.scope ?? [];
      assertScopes(api, scope);
      const existing = await store.clientGrants.count({
        audience: body.audience,
        subjectType,
        ...(body.client_id !== undefined
          ? { clientId: body.client_id }
          : { defaultFor: 'third_party_clients' as const }),
      });
      if (existing > 0) throw conflict(body);
      const grant: ClientGrant = {
        tenantId: deps.tenantId,
        id: deps.ids.prefixed('cgr'),
        clientId: body.client_id ?? null,
        audience: body.audience,
        scope,
        subjectType,
        defaultFor: body.default_for ?? null,
        allowAllScopes: body.allow_all_scopes ?? false,
        organizationUsage: body.organization_usage ?? null,
        allowAnyOrganization: body.allow_any_organization ?? null,
        authorizationDetailsTypes: body.authorization_details_types ?? [],
        isSystem: false,
        createdAt: new Date(deps.clock.now()).toISOString(),
      };
      try {
        await store.clientGrants.insert(grant);
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(body);
        throw error;
      }
      return grant;
    },

    async update(id: string, body: ClientGrantUpdate): Promise<ClientGrant> {
      return store.transaction(async (repos) => {
        await repos.tenants.lock();
        const current = await repos.clientGrants.findById(id);
        if (!current) throw notFound();
        if (current.isSystem)
          throw new Forbidden('operation_not_supported', 'System client grants cannot be modified.');
        if (body.scope !== undefined && body.scope !== null) {
          const api = await repos.resourceServers.findByIdentifier(current.audience);
          if (api) assertScopes(api, body.scope);
        }
        const next: ClientGrant = {
          ...current,
          scope: body.scope === undefined ? current.scope : (body.scope ?? []),
          organizationUsage:
            body.organization_usage === undefined ? current.organizationUsage : body.organization_usage,
          allowAnyOrganization:
            body.allow_any_organization === undefined
              ? current.allowAnyOrganization
              : body.allow_any_organization,
          authorizationDetailsTypes: body.authorization_details_types ?? current.authorizationDetailsTypes,
          allowAllScopes:
            body.allow_all_scopes === undefined ? current.allowAllScopes : body.allow_all_scopes === true,
        };
        await repos.clientGrants.update(next);
        return next;
      });
    },

    async remove(id: string): Promise<void> {
      const current = await store.clientGrants.findById(id);
      if (!current) throw notFound();
      if (current.isSystem)
        throw new Forbidden('operation_not_supported', 'System client grants cannot be deleted.');
      await store.clientGrants.delete(id);
    },
  };
}
