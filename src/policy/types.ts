import type { ClientPolicy, SubjectType, UserPolicy } from '../domain/access-policy.js';

export type { ClientPolicy, SubjectType, UserPolicy };

/** The parts of a resource server the policy engine looks at. */
export interface PolicyApi {
  readonly identifier: string;
  readonly isSystem: boolean;
  /** Scopes the API defines, in definition order. */
  readonly scopes: readonly string[];
  readonly userPolicy: UserPolicy;
  readonly clientPolicy: ClientPolicy;
  /** RBAC: limit user tokens to the user's permissions. */
  readonly enforcePolicies: boolean;
}

export interface PolicyClient {
  readonly clientId: string;
  readonly isFirstParty: boolean;
}

export interface PolicyGrant {
  readonly id: string;
  /** null for a `default_for: third_party_clients` grant. */
  readonly clientId: string | null;
  readonly defaultFor: 'third_party_clients' | null;
  readonly subjectType: SubjectType;
  readonly scopes: readonly string[];
  readonly allowAllScopes: boolean;
}

export interface AccessRequest {
  readonly subject: SubjectType;
  readonly api: PolicyApi;
  readonly client: PolicyClient;
  /** Every grant for this API (per-client and default_for); the engine picks the one that applies. */
  readonly grants: readonly PolicyGrant[];
  /** API scopes the request names; undefined when the request sent no scope at all. */
  readonly requestedScopes: readonly string[] | undefined;
  /** The user's RBAC permission names on this API (user flows; used when the API enforces policies). */
  readonly rbacPermissions?: readonly string[];
  /** Scopes the user consented to; undefined when consent does not apply. */
  readonly consentedScopes?: readonly string[] | undefined;
}

export type DenyReason =
  /** The API's policy for this subject type is deny_all. */
  | 'policy_deny_all'
  /** A grant is required (policy or third-party app) and none applies. */
  | 'no_client_grant'
  /** Third-party applications never reach system APIs. */
  | 'third_party_system_api';

export type AccessDecision =
  | {
      readonly allowed: true;
      /** Final API scopes, in the API's definition order. */
      readonly scopes: string[];
      /** What a `*_authz` dialect puts in `permissions`. */
      readonly permissions: string[];
      /** The grant that applied, if any. */
      readonly grantId: string | undefined;
    }
  | { readonly allowed: false; readonly reason: DenyReason };
