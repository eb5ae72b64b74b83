import type { ClientPolicy, UserPolicy } from '../policy/types.js';

export type SigningAlg = 'RS256' | 'RS512' | 'PS256' | 'HS256';
export type TokenDialect =
  'access_token' | 'access_token_authz' | 'rfc9068_profile' | 'rfc9068_profile_authz';

export interface Scope {
  readonly value: string;
  readonly description?: string;
}

export interface ResourceServer {
  readonly tenantId: string;
  readonly id: string;
  readonly identifier: string;
  readonly name: string;
  readonly isSystem: boolean;
  readonly scopes: readonly Scope[];
  readonly signingAlg: SigningAlg;
  /** Plaintext HS256 secret (sealed at rest). */
  readonly signingSecret: string | undefined;
  readonly allowOfflineAccess: boolean;
  readonly skipConsentForVerifiableFirstPartyClients: boolean;
  readonly tokenLifetime: number;
  readonly tokenLifetimeForWeb: number;
  readonly enforcePolicies: boolean;
  readonly tokenDialect: TokenDialect;
  readonly userPolicy: UserPolicy;
  readonly clientPolicy: ClientPolicy;
  /** Auth0 fields stored and echoed but not acted on yet (proof_of_possession, consent_policy, …). */
  readonly extra: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const DEFAULT_TOKEN_LIFETIME = 86_400;
export const DEFAULT_TOKEN_LIFETIME_FOR_WEB = 7_200;
