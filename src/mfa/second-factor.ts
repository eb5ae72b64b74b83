import type { MfaEnrolment, MfaEnrolmentType } from '../domain/mfa-enrolment.js';
import { randomAlphanumeric } from '../lib/ids.js';
import type { Deps } from '../server/deps.js';
import type { WarningLog } from '../server/failed-auth-limit.js';
import { guardianConfig, type GuardianConfig, type GuardianFactor } from './guardian.js';
import { hashRecoveryCode, newRecoveryCode, recoveryCodeMatches } from './recovery-code.js';
import { acceptTotpCode } from './totp.js';

/**
 * One place for the second factor at sign-in, shared by the hosted challenge page, Auth0's MFA API (/mfa/* and
 * the mfa-* grants) and step-up: whether a sign-in needs one, which of the user's factors can answer, and
 * checking an answer (with the per-user throttle every node shares).
 */

/** Auth0's multi-factor policy URI for `acr_values` (and the `acr` of a token that satisfied it). */
export const MFA_ACR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

/** The guardian factor that must be on for each enrolment type to count. */
export const FACTOR_OF_TYPE: Readonly<Record<MfaEnrolmentType, GuardianFactor>> = {
  totp: 'otp',
  'recovery-code': 'recovery-code',
  email: 'email',
  phone: 'sms',
};

/** RFC 8176 method references for each enrolment type (email has none there: Auth0 writes `email`). */
export const AMR_OF_TYPE: Readonly<Record<MfaEnrolmentType, string>> = {
  totp: 'otp',
  'recovery-code': 'otp',
  email: 'email',
  phone: 'sms',
};

/**
 * The sign-in needs a second factor: the tenant's policy is `all-applications` with a factor on, or the
 * application asked for Auth0's multi-factor policy in `acr_values`.
 */
export function mfaRequired(config: GuardianConfig, acrValues: string | undefined): boolean {
  const asked = (acrValues ?? '').split(' ').includes(MFA_ACR);
  return asked || (config.policies.includes('all-applications') && config.enabled.length > 0);
}

/** The user's confirmed second factors whose guardian factor the tenant enables, oldest first. */
export async function usableFactors(deps: Deps, userId: string): Promise<MfaEnrolment[]> {
  const { enabled } = guardianConfig(await deps.lookups.tenantSettings());
  const confirmed = await deps.store.mfaEnrolments.listConfirmed(userId);
  return confirmed.filter((e) => enabled.includes(FACTOR_OF_TYPE[e.type]));
}

export type FactorCheck =
  | { readonly ok: true; readonly enrolment: MfaEnrolment; readonly amr: readonly string[] }
  | { readonly ok: false; readonly reason: 'wrong' | 'throttled' };

/**
 * Counts one second-factor attempt of the user (a code typed, a code sent, a passkey answer) against the
 * per-user throttle, every node together: one key per user per tenant, whatever the address.
 */
export function secondFactorAttempt(deps: Deps, userId: string, log: WarningLog) {
  return deps.failedSecondFactors.attempt(`${deps.tenantId}:${userId}`, log);
}

/**
 * The code that confirms a pending TOTP enrolment (its secret's code, accepted once), under the same throttle
 * as a challenge's codes. Confirming the row is the caller's (each flow confirms with what comes with it).
 */
export async function checkPendingTotp(
  deps: Deps,
  pending: MfaEnrolment,
  code: string,
  log: WarningLog,
): Promise<'ok' | 'wrong' | 'throttled'> {
  const attempt = await secondFactorAttempt(deps, pending.userId, log);
  if (attempt.refusal) return 'throttled';
  if (
    !(await acceptTotpCode(deps.oneTime, pending.id, pending.secret ?? '', code.trim(), deps.clock.now()))
  ) {
    return 'wrong';
  }
  await attempt.cancel();
  return 'ok';
}

/**
 * A TOTP code against each of the user's usable TOTP enrolments; a code is accepted once (totp.ts). A wrong
 * code counts against the user's throttle, every node together.
 */
export async function checkTotp(
  deps: Deps,
  userId: string,
  code: string,
  log: WarningLog,
): Promise<FactorCheck> {
  const attempt = await secondFactorAttempt(deps, userId, log);
  if (attempt.refusal) return { ok: false, reason: 'throttled' };
  const now = deps.clock.now();
  for (const e of (await usableFactors(deps, userId)).filter((f) => f.type === 'totp')) {
    if (await acceptTotpCode(deps.oneTime, e.id, e.secret ?? '', code.trim(), now)) {
      await attempt.cancel();
      await deps.store.mfaEnrolments.touch(userId, e.id, new Date(now).toISOString());
      return { ok: true, enrolment: e, amr: ['otp', 'mfa'] };
    }
  }
  return { ok: false, reason: 'wrong' };
}

/** A new enrolment id in Auth0's shape, `{type}|dev_…`. */
export function newEnrolmentId(type: MfaEnrolmentType): string {
  return `${type}|dev_${randomAlphanumeric(20)}`;
}

/**
 * An enrolment started at `at` and not confirmed yet: a first right code (or its verification) confirms it.
 * `fields` carry what the type holds (a TOTP secret, a recovery code's hash, an address and channel).
 */
export function pendingEnrolment(
  userId: string,
  type: MfaEnrolmentType,
  at: string,
  fields: Partial<Pick<MfaEnrolment, 'id' | 'secret' | 'codeHash' | 'address' | 'channel'>> = {},
): MfaEnrolment {
  return {
    id: newEnrolmentId(type),
    userId,
    type,
    secret: undefined,
    codeHash: undefined,
    confirmed: false,
    name: undefined,
    createdAt: at,
    enrolledAt: undefined,
    lastAuthAt: undefined,
    ...fields,
  };
}

/** A confirmed recovery-code enrolment holding the hash of `code`. */
export function recoveryEnrolment(userId: string, code: string, at: string): MfaEnrolment {
  return {
    ...pendingEnrolment(userId, 'recovery-code', at, { codeHash: hashRecoveryCode(code) }),
    confirmed: true,
    enrolledAt: at,
    lastAuthAt: at,
  };
}

/**
 * A recovery code: when it matches, it is used up and replaced by a new one in the same transaction (Auth0
 * answers the mfa-recovery-code grant with the new code, which the user must keep).
 */
export async function redeemRecoveryCode(
  deps: Deps,
  userId: string,
  code: string,
  log: WarningLog,
): Promise<(FactorCheck & { ok: true; readonly newCode: string }) | (FactorCheck & { ok: false })> {
  const attempt = await secondFactorAttempt(deps, userId, log);
  if (attempt.refusal) return { ok: false, reason: 'throttled' };
  const found = (await usableFactors(deps, userId)).find(
    (e) => e.type === 'recovery-code' && e.codeHash !== undefined && recoveryCodeMatches(e.codeHash, code),
  );
  if (!found) return { ok: false, reason: 'wrong' };
  const newCode = newRecoveryCode();
  const at = new Date(deps.clock.now()).toISOString();
  const replaced = await deps.store.transaction(async (repos) => {
    // Two requests with the same code: only the one that deletes it gets through.
    if (!(await repos.mfaEnrolments.delete(userId, found.id))) return false;
    await repos.mfaEnrolments.insert(recoveryEnrolment(userId, newCode, at));
    return true;
  });
  if (!replaced) return { ok: false, reason: 'wrong' };
  await attempt.cancel();
  deps.invalidation.userChanged(userId, 'passkeys');
  return { ok: true, enrolment: found, amr: ['otp', 'mfa'], newCode };
}
