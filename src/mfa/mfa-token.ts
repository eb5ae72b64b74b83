import { randomBytes } from 'node:crypto';
import type { OneTimeStore } from '../server/one-time-store.js';

/** How long a client has to complete MFA after `mfa_required` (Auth0's mfa_token lives ten minutes). */
export const MFA_TOKEN_TTL_SECONDS = 600;
const KEY = 'mfa:token:';

/**
 * What the first factor established, kept under the opaque `mfa_token` of a 403 `mfa_required`: the
 * /mfa/* endpoints act for this user, and the mfa-* grants finish the token request it interrupted.
 */
export interface MfaTokenState {
  readonly userId: string;
  readonly clientId: string;
  readonly audience: string | undefined;
  /** The interrupted request's scope, as sent (undefined when it sent none). */
  readonly scope: string | undefined;
  /** The grant that asked (`password`, `http://auth0.com/oauth/grant-type/password-realm`, …). */
  readonly gty: string;
  /** When the first factor passed (epoch seconds): the tokens' `auth_time`. */
  readonly authTime: number;
  /** The first factor's method references (RFC 8176), e.g. `["pwd"]`. */
  readonly amr: readonly string[];
  readonly expiresAt: number;
}

export function createMfaTokens(oneTime: OneTimeStore, nowSeconds: () => number) {
  const read = (raw: string | undefined): MfaTokenState | undefined => {
    if (raw === undefined) return undefined;
    const state = JSON.parse(raw) as MfaTokenState;
    return state.expiresAt > nowSeconds() ? state : undefined;
  };
  return {
    async issue(state: Omit<MfaTokenState, 'expiresAt'>): Promise<string> {
      const token = randomBytes(32).toString('base64url');
      const full: MfaTokenState = { ...state, expiresAt: nowSeconds() + MFA_TOKEN_TTL_SECONDS };
      await oneTime.putOnce(`${KEY}${token}`, JSON.stringify(full), MFA_TOKEN_TTL_SECONDS);
      return token;
    },
    /** The state, left in place for the next /mfa/* call; undefined when unknown or expired. */
    async open(token: string): Promise<MfaTokenState | undefined> {
      if (token.length === 0 || token.length > 64) return undefined;
      return read(await oneTime.peek(`${KEY}${token}`));
    },
    /** Takes the state once a grant completes MFA with it: an mfa_token answers one token request. */
    async take(token: string): Promise<MfaTokenState | undefined> {
      if (token.length === 0 || token.length > 64) return undefined;
      return read(await oneTime.takeOnce(`${KEY}${token}`));
    },
  };
}
export type MfaTokens = ReturnType<typeof createMfaTokens>;
