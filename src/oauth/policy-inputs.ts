import type { ClientGrant } from '../domain/client-grant.js';
import type { ResourceServer } from '../domain/resource-server.js';
import type { PolicyApi, PolicyGrant } from '../policy/types.js';

export function toPolicyApi(api: ResourceServer): PolicyApi {
  return {
    identifier: api.identifier,
    isSystem: api.isSystem,
    scopes: api.scopes.map((s) => s.value),
    userPolicy: api.userPolicy,
    clientPolicy: api.clientPolicy,
    enforcePolicies: api.enforcePolicies,
  };
}

export function toPolicyGrant(grant: ClientGrant): PolicyGrant {
  return {
    id: grant.id,
    clientId: grant.clientId,
    defaultFor: grant.defaultFor,
    subjectType: grant.subjectType,
    scopes: grant.scope,
    allowAllScopes: grant.allowAllScopes,
  };
}
