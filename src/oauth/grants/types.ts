import type { Client } from '../../domain/client.js';
import type { ClientGrant } from '../../domain/client-grant.js';
import type { Consent, RefreshTokenRecord, RevocationReason } from '../../domain/refresh-token.js';
import type { ResourceServer } from '../../domain/resource-server.js';
import type { AuthenticateDeps } from '../../users/authenticate.js';
import type { JwtSigner } from '../../keys/signer.js';
import type { ClientAuthMethod } from '../client-auth/types.js';
import type { TokenParams } from '../params.js';
import type { TokenAudit } from '../../logs/token-events.js';
import type { PasskeySignIn, PasskeySignInInput } from './webauthn.js';
import type { CodeStore } from '../authorize/codes.js';
import type { MfaTokens } from '../../mfa/mfa-token.js';

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer' | 'DPoP';
  readonly expires_in: number;
  readonly scope?: string;
  readonly refresh_token?: string;
  readonly id_token?: string;
  /** The mfa-recovery-code grant's replacement for the code just used up (Auth0: the user must keep it). */
  readonly recovery_code?: string;
}

export interface TokenRequest {
  readonly client: Client;
  readonly authMethod: ClientAuthMethod;
  readonly params: TokenParams;
  /** The caller's IP address, for brute-force protection and the refresh token's device. */
  readonly ip: string;
  readonly userAgent: string | undefined;
  /** Filled in as the grant learns who signs in, for the request's log event. */
  readonly audit: TokenAudit;
  /** RFC 9449: the thumbprint of the key of the request's verified DPoP proof; the tokens are bound to it. */
  readonly jkt?: string;
}

/** Where a request came from, as a refresh token records it. */
export interface RequestOrigin {
  readonly ip: string;
  readonly userAgent: string | undefined;
}

/** The writes one user-token issuance needs, applied together in one transaction or not at all. */
export interface IssuanceWrites {
  /** The presented rotating refresh token is used up, unless another request used it first. */
  readonly rotated?: { readonly id: string; readonly at: number };
  /** The presented non-rotating refresh token was used: its idle window restarts. */
  readonly touched?: {
    readonly id: string;
    readonly at: number;
    readonly idleExpiresAt: number | undefined;
    readonly from: RequestOrigin;
  };
  readonly refreshToken?: RefreshTokenRecord;
  /** The scopes the user delegated to the client for the API (Auth0's user grant). */
  readonly consent?: Consent;
}

/** What user-delegated grants need beyond client credentials; each is a narrow storage call. */
export interface UserGrantDeps extends AuthenticateDeps {
  /** Authorization codes issued by /authorize (one-time store). */
  readonly authorizationCodes: CodeStore;
  readonly effectivePermissions: (userId: string, audience: string) => Promise<string[]>;
  /** The user's stored consent (Auth0's user grant) for the client and audience. */
  readonly findConsent: (userId: string, clientId: string, audience: string) => Promise<Consent | undefined>;
  readonly findRefreshToken: (hash: string) => Promise<RefreshTokenRecord | undefined>;
  readonly revokeRefreshFamily: (familyId: string, at: number, reason: RevocationReason) => Promise<void>;
  /**
   * Applies the writes in one transaction.
   * @returns 'raced' (nothing written) when the rotated token had already been used by another request.
   */
  readonly saveIssuance: (writes: IssuanceWrites) => Promise<'saved' | 'raced'>;
}

/** A second-factor answer presented to an mfa-* grant. */
export type MfaAnswer =
  | { readonly type: 'otp'; readonly otp: string }
  | { readonly type: 'oob'; readonly oobCode: string; readonly bindingCode: string }
  | { readonly type: 'recovery-code'; readonly code: string };

export type MfaVerification =
  | {
      readonly ok: true;
      /** The method references the answer adds (RFC 8176), `mfa` included. */
      readonly amr: readonly string[];
      /** A recovery code's replacement. */
      readonly newRecoveryCode?: string;
    }
  | { readonly ok: false; readonly reason: 'wrong' | 'unknown' | 'throttled' };

/** Auth0's MFA API as the grants see it: the tenant's policy, the mfa_token store and the answer check. */
export interface MfaGrantDeps {
  /** The tenant's MFA policy demands a second factor of every sign-in. */
  readonly required: () => Promise<boolean>;
  readonly tokens: MfaTokens;
  /**
   * Checks an answer for the user of `mfaToken` against their factors, or against the enrolment the token
   * started at /mfa/associate, which the first right answer confirms.
   */
  readonly verify: (mfaToken: string, userId: string, answer: MfaAnswer) => Promise<MfaVerification>;
}

export interface GrantDeps extends UserGrantDeps {
  readonly mfa: MfaGrantDeps;
  readonly issuer: string;
  readonly newJti: () => string;
  readonly newId: (prefix: string) => string;
  readonly signer: JwtSigner;
  readonly findApi: (identifier: string) => Promise<ResourceServer | undefined>;
  readonly findGrants: (clientId: string, audience: string) => Promise<ClientGrant[]>;
  /** The webauthn grant's ceremony check (and sign-up); throws InvalidGrant when it fails. */
  readonly passkeySignIn: (input: PasskeySignInInput) => Promise<PasskeySignIn>;
}

export interface GrantHandler {
  readonly grantType: string;
  /** Body params this grant reads besides client authentication; the token endpoint drops every other one. */
  readonly params: ReadonlySet<string>;
  handle(req: TokenRequest, deps: GrantDeps): Promise<TokenResponse>;
}
