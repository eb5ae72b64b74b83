import { MFA_ACR } from '../mfa/second-factor.js';
import { DPOP_ALGS } from '../oauth/dpop/verify-proof.js';
import type { AccessTokenClaims } from '../oauth/tokens/verify-access-token.js';

/**
 * Step-up (RFC 9470): routes that declare `config: { stepUp: true }` on a surface with step-up options demand
 * a second factor completed within the last N minutes. The token says so itself: access tokens of multi-factor
 * sign-ins carry `amr` with "mfa" and `auth_time` (access-token.ts `mfa`).
 */

/** The tenant setting (PATCH /api/v2/tenants/settings): minutes a second factor counts as recent; absent = off. */
export const STEP_UP_SETTING = 'mfa_step_up_max_age_in_minutes';

/** Tolerated clock difference between nodes for an `auth_time` slightly ahead of this node's clock. */
const SKEW_SECONDS = 60;

/** The tenant's step-up window in seconds, or undefined when step-up is off. */
export function stepUpMaxAgeSeconds(settings: Readonly<Record<string, unknown>>): number | undefined {
  const minutes = settings[STEP_UP_SETTING];
  return typeof minutes === 'number' && Number.isInteger(minutes) && minutes > 0 ? minutes * 60 : undefined;
}

/** True when the token records a second factor completed within `maxAgeSeconds` of `nowSeconds`. */
export function hasRecentSecondFactor(
  claims: AccessTokenClaims,
  nowSeconds: number,
  maxAgeSeconds: number,
): boolean {
  const amr = claims['amr'];
  const authTime = claims['auth_time'];
  if (!Array.isArray(amr) || !amr.includes('mfa') || typeof authTime !== 'number') return false;
  const age = nowSeconds - authTime;
  return age <= maxAgeSeconds && age >= -SKEW_SECONDS;
}

/** Why a request fell short of step-up, and the challenge that tells the client how to get there. */
export interface StepUpRefusal {
  readonly message: string;
  /** RFC 9470 §3's `WWW-Authenticate` answer, in the scheme the token was presented with. */
  readonly challenge: string;
}

export function stepUpRefusal(scheme: 'Bearer' | 'DPoP', maxAgeSeconds: number): StepUpRefusal {
  const minutes = maxAgeSeconds / 60;
  const message =
    `This operation requires a second factor completed within the last ${minutes} minute${minutes === 1 ? '' : 's'}. ` +
    `Sign in again with acr_values=${MFA_ACR} and max_age=${maxAgeSeconds}, then retry with the new access token.`;
  const description = 'A recent second factor is required';
  const params = `error="insufficient_user_authentication", error_description="${description}", acr_values="${MFA_ACR}", max_age="${maxAgeSeconds}"`;
  // RFC 9449 §7.1: a DPoP challenge names the algorithms a proof may use.
  const challenge = scheme === 'DPoP' ? `DPoP algs="${DPOP_ALGS.join(' ')}", ${params}` : `Bearer ${params}`;
  return { message, challenge };
}
