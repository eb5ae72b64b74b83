/** Second factors enrolled through the My Account API (spec 3.2's MFA-style methods). */
export const MFA_ENROLMENT_TYPES = ['totp', 'recovery-code', 'email', 'phone'] as const;
export type MfaEnrolmentType = (typeof MFA_ENROLMENT_TYPES)[number];

export function isMfaEnrolmentType(value: unknown): value is MfaEnrolmentType {
  return MFA_ENROLMENT_TYPES.some((t) => t === value);
}

export interface MfaEnrolment {
  /** `{type}|dev_…`, Auth0's shape. */
  readonly id: string;
  readonly userId: string;
  readonly type: MfaEnrolmentType;
  /** The TOTP secret (base32), opened from its sealed form; never logged. */
  readonly secret: string | undefined;
  /** SHA-256 (hex) of the recovery code. */
  readonly codeHash: string | undefined;
  /** False until the enrolment is verified; unconfirmed rows are not methods yet. */
  readonly confirmed: boolean;
  readonly name: string | undefined;
  readonly createdAt: string;
  readonly enrolledAt: string | undefined;
  readonly lastAuthAt: string | undefined;
  /** The address one-time codes go to: an email enrolment's email, a phone enrolment's E.164 number. */
  readonly address?: string;
  /** A phone enrolment's preferred channel. */
  readonly channel?: 'sms' | 'voice';
}
