import type { Client } from '../../domain/client.js';
import type { ClientGrant } from '../../domain/client-grant.js';
import type { Connection } from '../../domain/connection.js';
import type { Consent, RefreshTokenRecord } from '../../domain/refresh-token.js';
import type { ResourceServer } from '../../domain/resource-server.js';
import type { User } from '../../domain/user.js';
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
  /** The caller's IP address, for brute-force protection. */
  readonly ip: string;
}

/** What user-delegated grants need beyond client credentials; each is a narrow storage call. */
export interface UserGrantDeps {
  readonly tenantSettings: () => Promise<Readonly<Record<string, unknown>>>;
  readonly findConnection: (name: string) => Promise<Connection | undefined>;
  readonly findUserByLogin: (connection: string, login: string) => Promise<User | undefined>;
  readonly findUser: (userId: string) => Promise<User | undefined>;
  /**
   * Records a successful login (count, time, IP) without touching other columns and, when given, replaces the
   * password hash only if it is still the one that was verified.
   * @returns the user as stored afterwards, or undefined when it is now blocked or gone.
   */
  readonly recordLogin: (user: User, ip: string, newHash: string | undefined) => Promise<User | undefined>;
  readonly loginFailures: {
    reserveAttempt(
      userId: string,
      ip: string,
      now: number,
      windowSeconds: number,
      limit: number,
    ): Promise<boolean>;
    recordFailure(
      userId: string,
      ip: string,
      now: number,
      limit: number,
      blockSeconds: number,
    ): Promise<void>;
    clear(userId: string, ip?: string): Promise<void>;
  };
  readonly effectivePermissions: (userId: string, audience: string) => Promise<string[]>;
  readonly refreshTokens: {
    findByHash(hash: string): Promise<RefreshTokenRecord | undefined>;
    insert(token: RefreshTokenRecord): Promise<void>;
    markRotated(id: string, at: number): Promise<boolean>;
    touch(id: string, at: number, idleExpiresAt: number | undefined): Promise<void>;
    revokeFamily(familyId: string, at: number): Promise<void>;
  };
  readonly upsertConsent: (consent: Consent) => Promise<void>;
}

export interface GrantDeps extends UserGrantDeps {
  readonly issuer: string;
  readonly nowSeconds: () => number;
  readonly newJti: () => string;
  readonly newId: (prefix: string) => string;
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
