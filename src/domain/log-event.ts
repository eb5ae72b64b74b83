/** Auth0's log event codes that Latchkey records, with the event name Auth0 gives each and its stream filter category. */
export const LOG_TYPES = {
  s: { name: 'Success Login', category: 'auth.login.success' },
  f: { name: 'Failed Login', category: 'auth.login.fail' },
  fp: { name: 'Failed Login (Incorrect Password)', category: 'auth.login.fail' },
  fu: { name: 'Failed Login (Invalid Email/Username)', category: 'auth.login.fail' },
  slo: { name: 'Success Logout', category: 'auth.logout.success' },
  flo: { name: 'User logout failed', category: 'auth.logout.fail' },
  limit_wc: { name: 'Blocked Account', category: 'auth.login.notification' },
  limit_mu: { name: 'Blocked IP Address', category: 'auth.login.notification' },
  ssa: { name: 'Success Silent Auth', category: 'auth.silent_auth.success' },
  fsa: { name: 'Failed Silent Auth', category: 'auth.silent_auth.fail' },
  seccft: {
    name: 'Success Exchange (Client Credentials for Access Token)',
    category: 'auth.token_exchange.success',
  },
  feccft: {
    name: 'Failed Exchange (Client Credentials for Access Token)',
    category: 'auth.token_exchange.fail',
  },
  seacft: {
    name: 'Success Exchange (Authorization Code for Access Token)',
    category: 'auth.token_exchange.success',
  },
  feacft: {
    name: 'Failed Exchange (Authorization Code for Access Token)',
    category: 'auth.token_exchange.fail',
  },
  sepft: { name: 'Success Exchange (Password for Access Token)', category: 'auth.token_exchange.success' },
  fepft: { name: 'Failed Exchange (Password for Access Token)', category: 'auth.token_exchange.fail' },
  sertft: {
    name: 'Success Exchange (Refresh Token for Access Token)',
    category: 'auth.token_exchange.success',
  },
  fertft: { name: 'Failed Exchange (Refresh Token for Access Token)', category: 'auth.token_exchange.fail' },
  seotpft: {
    name: 'Success Exchange (Password and OTP Grant for Access Token)',
    category: 'auth.token_exchange.success',
  },
  feotpft: {
    name: 'Failed Exchange (Password and OTP Grant for Access Token)',
    category: 'auth.token_exchange.fail',
  },
  seoobft: {
    name: 'Success Exchange (Password and OOB Grant for Access Token)',
    category: 'auth.token_exchange.success',
  },
  feoobft: {
    name: 'Failed Exchange (Password and OOB Grant for Access Token)',
    category: 'auth.token_exchange.fail',
  },
  sercft: {
    name: 'Success Exchange (Password and MFA Recovery code for Access Token)',
    category: 'auth.token_exchange.success',
  },
  fercft: {
    name: 'Failed Exchange (Password and MFA Recovery code for Access Token)',
    category: 'auth.token_exchange.fail',
  },
  mfar: { name: 'MFA Required', category: 'auth.login.notification' },
  ferrt: { name: 'Failed Exchange (Rotating Refresh Token)', category: 'auth.token_exchange.fail' },
  srrt: { name: 'Success Revocation', category: 'user.notification' },
  scp: { name: 'Success Change Password', category: 'user.notification' },
  fcp: { name: 'Failed Change Password', category: 'user.fail' },
  scpr: { name: 'Success Change Password Request', category: 'user.notification' },
  fcpr: { name: 'Failed Change Password Request', category: 'user.fail' },
  ss: { name: 'Success Signup', category: 'auth.signup.success' },
  fs: { name: 'Failed Signup', category: 'auth.signup.fail' },
  sv: { name: 'Success Verification Email', category: 'user.notification' },
  fv: { name: 'Failed Verification Email', category: 'user.fail' },
  svr: { name: 'Success Verification Email Request', category: 'user.notification' },
  // The second factor (Auth0's Guardian codes), on the hosted pages and the MFA API.
  gd_auth_succeed: { name: 'MFA Authentication Success', category: 'auth.login.success' },
  gd_auth_failed: { name: 'MFA Authentication Failed', category: 'auth.login.fail' },
  gd_recovery_succeed: { name: 'MFA Recovery Success', category: 'auth.login.success' },
  gd_recovery_failed: { name: 'MFA Recovery Failed', category: 'auth.login.fail' },
  gd_otp_rate_limit_exceed: { name: 'Too Many Failures', category: 'auth.login.notification' },
  gd_enrollment_complete: { name: 'MFA Enrollment Complete', category: 'user.notification' },
  gd_send_email: { name: 'MFA Email Sent', category: 'user.notification' },
  gd_send_sms: { name: 'MFA SMS Sent', category: 'user.notification' },
  sapi: { name: 'Success API Operation', category: 'management.success' },
  fapi: { name: 'Failed API Operation', category: 'management.fail' },
  api_limit: { name: 'Rate Limit on the Authentication or Management APIs', category: 'system.notification' },
} as const;

export type LogType = keyof typeof LOG_TYPES;

export function isLogType(value: string): value is LogType {
  return Object.hasOwn(LOG_TYPES, value);
}

/** What a caller records; the recorder adds the id and the time. */
export interface NewLogEvent {
  readonly type: LogType;
  readonly description?: string | undefined;
  readonly clientId?: string | undefined;
  readonly clientName?: string | undefined;
  readonly connection?: string | undefined;
  readonly connectionId?: string | undefined;
  readonly strategy?: string | undefined;
  readonly strategyType?: string | undefined;
  readonly userId?: string | undefined;
  readonly userName?: string | undefined;
  readonly audience?: string | undefined;
  readonly scope?: string | undefined;
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly hostname?: string | undefined;
  readonly details?: Readonly<Record<string, unknown>> | undefined;
}

/** One stored event, as `GET /api/v2/logs` returns it. */
export interface LogEvent extends NewLogEvent {
  readonly logId: string;
  /** Epoch milliseconds. */
  readonly at: number;
}
