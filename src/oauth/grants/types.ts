import type { Client } from '../../domain/client.js';
import type { ClientGrant } from '../../domain/client-grant.js';
import type { ResourceServer } from '../../domain/resource-server.js';
import type { JwtSigner } from '../../keys/signer.js';
import type { ClientAuthMethod } from '../client-auth/types.js';
import type { TokenParams } from '../params.js';

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer' | 'DPoP';
  readonly expires_in: number;
  readonly scope?: string;
  readonly refresh_token?: string;
  readonly id_token?: string;
}

export interface TokenRequest {
  readonly client: Client;
  readonly authMethod: ClientAuthMethod;
  readonly params: TokenParams;
}

export interface GrantDeps {
  readonly issuer: string;
  readonly nowSeconds: () => number;
  readonly newJti: () => string;
  readonly signer: JwtSigner;
  readonly findApi: (identifier: string) => Promise<ResourceServer | undefined>;
  readonly findGrants: (clientId: string, audience: string) => Promise<ClientGrant[]>;
}

export interface GrantHandler {
  readonly grantType: string;
  /** Body params this grant reads besides client authentication. */
  readonly params: ReadonlySet<string>;
  handle(req: TokenRequest, deps: GrantDeps): Promise<TokenResponse>;
}
