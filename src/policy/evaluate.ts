import type { AccessDecision, AccessRequest, PolicyGrant } from './types.js';

/**
 * Decides whether a token may be issued for `req.api` and with which scopes (seed 002).
 * Pure: everything it needs arrives in the request.
 */
export function evaluateAccess(req: AccessRequest): AccessDecision {
  const { api, client, subject } = req;
  const policy = subject === 'client' ? api.clientPolicy : api.userPolicy;
  if (policy === 'deny_all') return { allowed: false, reason: 'policy_deny_all' };
  if (!client.isFirstParty && api.isSystem) return { allowed: false, reason: 'third_party_system_api' };

  // Seed 002: third-party apps always need a grant; first-party apps only under require_client_grant.
  const needsGrant = !client.isFirstParty || policy === 'require_client_grant';
  const grant = needsGrant ? applicableGrant(req) : undefined;
  if (needsGrant && !grant) return { allowed: false, reason: 'no_client_grant' };

  const ceiling = grant ? ceilingOf(grant, api.scopes) : [...api.scopes];
  // Seed 002: under per-app authorization a user-flow request must name its scopes, whoever asks.
  const mustName = subject === 'user' && policy === 'require_client_grant';
  const requested = req.requestedScopes ?? (mustName ? [] : ceiling);

  let scopes = intersect(ceiling, requested);
  let permissions = scopes;
  if (subject === 'user') {
    if (api.enforcePolicies) {
      const rbac = req.rbacPermissions ?? [];
      scopes = intersect(scopes, rbac);
      permissions = intersect(ceiling, rbac);
    }
    if (req.consentedScopes !== undefined) {
      scopes = intersect(scopes, req.consentedScopes);
      if (!api.enforcePolicies) permissions = scopes;
    }
  }
  return { allowed: true, scopes, permissions: [...permissions], grantId: grant?.id };
}

function applicableGrant(req: AccessRequest): PolicyGrant | undefined {
  const own = req.grants.find((g) => g.subjectType === req.subject && g.clientId === req.client.clientId);
  if (own) return own;
  if (req.client.isFirstParty || req.api.isSystem) return undefined;
  return req.grants.find(
    (g) => g.subjectType === req.subject && g.clientId === null && g.defaultFor === 'third_party_clients',
  );
}

function ceilingOf(grant: PolicyGrant, apiScopes: readonly string[]): string[] {
  return grant.allowAllScopes ? [...apiScopes] : intersect(apiScopes, grant.scopes);
}

/** Members of `ordered` that are also in `other`, keeping `ordered`'s order, without duplicates. */
function intersect(ordered: readonly string[], other: readonly string[]): string[] {
  const allowed = new Set(other);
  return [...new Set(ordered)].filter((s) => allowed.has(s));
}
