import { Secret, TOTP } from 'otpauth';
import type { OneTimeStore } from '../server/one-time-store.js';

/** RFC 6238 as authenticator apps expect it (Auth0's barcode_uri parameters, spec 3.3). */
const PERIOD = 30;
const DIGITS = 6;
const ALGORITHM = 'SHA1';
/** One step either side: a phone clock a little off, or a code typed as it rolled over. */
const WINDOW = 1;
const USED_KEY = 'mfa:totp_used:';

/** A new 160-bit secret (RFC 4226's recommended length), base32 as apps take it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/**
 * The otpauth:// URI an authenticator app scans (spec 3.3):
 * `otpauth://totp/{issuer}:{account}?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
 */
export function totpUri(issuer: string, account: string, secret: string): string {
  const e = encodeURIComponent;
  return (
    `otpauth://totp/${e(issuer)}:${e(account)}?secret=${secret}&issuer=${e(issuer)}` +
    `&algorithm=${ALGORITHM}&digits=${DIGITS}&period=${PERIOD}`
  );
}

/**
 * Whether `code` is the secret's code for a step within the window of `nowMs`, and that step was not used
 * for `methodId` before: a code accepted once is refused for the rest of its life (the used step is kept in the
 * one-time store, shared by the nodes when Redis is configured). The comparison is otpauth's, constant-time.
 */
export async function acceptTotpCode(
  oneTime: OneTimeStore,
  methodId: string,
  secret: string,
  code: string,
  nowMs: number,
): Promise<boolean> {
  if (!/^\d{6}$/.test(code)) return false;
  const totp = new TOTP({
    secret: Secret.fromBase32(secret),
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: PERIOD,
  });
  const delta = totp.validate({ token: code, timestamp: nowMs, window: WINDOW });
  if (delta === null) return false;
  const step = Math.floor(nowMs / 1000 / PERIOD) + delta;
  // Long enough to outlive every window the step can still be accepted in.
  return oneTime.putOnce(`${USED_KEY}${methodId}:${step}`, '1', PERIOD * (2 * WINDOW + 2));
}
