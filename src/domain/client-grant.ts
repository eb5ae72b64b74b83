import type { SubjectType } from '../policy/types.js';

export interface ClientGrant {
  readonly tenantId: string;
  readonly id: string;
  readonly clientId: string | null;
  readonly audience: string;
  readonly scope: readonly string[];
  readonly subjectType: SubjectType;
  readonly defaultFor: 'third_party_clients' | null;
  readonly allowAllScopes: boolean;
  readonly organizationUsage: 'deny' | 'allow' | 'require' | null;
  readonly allowAnyOrganization: boolean | null;
  readonly authorizationDetailsTypes: readonly string[];
  readonly isSystem: boolean;
  readonly createdAt: string;
}
