import type { Client, ClientCredential } from '../../domain/client.js';
import type { TokenParams } from '../params.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export interface AuthenticatedClient {
  readonly client: Client;
  readonly method: ClientAuthMethod;
}

export interface ClientAuthDeps {
  readonly issuer: string;
  readonly nowSeconds: () => number;
  readonly findClient: (clientId: string) => Promise<Client | undefined>;
  readonly listCredentials: (clientId: string) => Promise<ClientCredential[]>;
  /** Records a client-assertion jti; false when it was already used. */
  readonly markJtiUsed: (clientId: string, jti: string, expiresAt: number) => Promise<boolean>;
}

export interface ClientAuthInput {
  readonly params: TokenParams;
  readonly authorization: string | undefined;
}
