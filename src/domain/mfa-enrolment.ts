/** Second factors enrolled through the My Account API (spec 3.2's MFA-style methods). */
export type MfaEnrolmentType = 'totp' | 'recovery-code';

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
}
