/**
 * The tenant's MFA configuration as Auth0's Management API exposes it (`/api/v2/guardian/factors` and
 * `/guardian/policies`), kept under one key of the tenant settings so it is cached and invalidated with them.
 */
export const GUARDIAN_KEY = 'guardian';

/** Auth0's factor names, in the order its GET /guardian/factors lists them. */
export const GUARDIAN_FACTORS = [
  'sms',
  'push-notification',
  'otp',
  'email',
  'duo',
  'webauthn-roaming',
  'webauthn-platform',
  'recovery-code',
] as const;
export type GuardianFactor = (typeof GUARDIAN_FACTORS)[number];

/** Auth0's MFA policies: none (`[]`) or a second factor for every application. */
export const MFA_POLICIES = ['all-applications'] as const;
export type MfaPolicy = (typeof MFA_POLICIES)[number];

export interface GuardianConfig {
  /** Factors the tenant enables; every other factor is off (a new Auth0 tenant enables none). */
  readonly enabled: readonly GuardianFactor[];
  readonly policies: readonly MfaPolicy[];
}

const isFactor = (v: unknown): v is GuardianFactor => GUARDIAN_FACTORS.some((f) => f === v);
const isPolicy = (v: unknown): v is MfaPolicy => MFA_POLICIES.some((p) => p === v);

/** Reads the configuration out of the tenant settings; anything unexpected counts as off. */
export function guardianConfig(settings: Readonly<Record<string, unknown>>): GuardianConfig {
  const stored = settings[GUARDIAN_KEY];
  const record = typeof stored === 'object' && stored !== null ? (stored as Record<string, unknown>) : {};
  const enabled = Array.isArray(record['enabled']) ? record['enabled'].filter(isFactor) : [];
  const policies = Array.isArray(record['policies']) ? record['policies'].filter(isPolicy) : [];
  return { enabled: GUARDIAN_FACTORS.filter((f) => enabled.includes(f)), policies };
}

/** The My Account method type each guardian factor enrols (spec 3.1's type enum). */
export const METHOD_TYPE_OF_FACTOR: Readonly<Record<GuardianFactor, string | undefined>> = {
  sms: 'phone',
  'push-notification': 'push-notification',
  otp: 'totp',
  email: 'email',
  duo: undefined,
  'webauthn-roaming': 'webauthn-roaming',
  'webauthn-platform': 'webauthn-platform',
  'recovery-code': 'recovery-code',
};
