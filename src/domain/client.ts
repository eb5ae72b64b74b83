export type TokenEndpointAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic';

export interface ClientCredential {
  readonly id: string;
  readonly clientId: string;
  readonly name: string;
  readonly credentialType: 'public_key';
  readonly pem: string;
  readonly alg: 'RS256' | 'RS384' | 'PS256';
  readonly kid: string;
  readonly thumbprint: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string | undefined;
}

export interface Client {
  readonly tenantId: string;
  readonly clientId: string;
  /** Plaintext secret (sealed at rest); Auth0 returns it from GET /clients. */
  readonly clientSecret: string;
  readonly name: string;
  readonly appType: string | undefined;
  readonly isFirstParty: boolean;
  readonly isSystem: boolean;
  /** null when private_key_jwt is switched on through client_authentication_methods. */
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod | null;
  /** Credential ids enabled for private_key_jwt. */
  readonly privateKeyJwtCredentialIds: readonly string[];
  readonly grantTypes: readonly string[];
  /** Remaining Auth0 client fields (callbacks, jwt_configuration, refresh_token, …) as sent. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}
