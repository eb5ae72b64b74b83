import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { MfaEnrolment } from '../domain/mfa-enrolment.js';
import { mailMessages } from '../mail/messages.js';
import { tenantDisplayName } from '../myaccount/service.js';
import type { Deps } from '../server/deps.js';
import type { WarningLog } from '../server/failed-auth-limit.js';
import { secondFactorAttempt } from './second-factor.js';

/** A code sent by email or text message lives five minutes (Auth0's email and SMS codes do). */
export const OOB_CODE_TTL_SECONDS = 300;
/** Wrong codes one challenge survives; the next wrong one ends it and a new code must be sent. */
export const OOB_MAX_ATTEMPTS = 5;
const KEY = 'mfa:oob:';

/** The code the user is waiting for, kept under the challenge's opaque `oob_code`. */
interface PendingCode {
  readonly userId: string;
  readonly enrolmentId: string;
  /** SHA-256 of the six digits: the store never holds the code itself. */
  readonly codeHash: string;
  readonly attempts: number;
  readonly expiresAt: number;
}

export type OobCheck =
  | { readonly ok: true; readonly enrolmentId: string }
  | { readonly ok: false; readonly reason: 'unknown' | 'wrong' | 'throttled' };

const hashCode = (code: string) => createHash('sha256').update(code, 'utf8').digest();

/** Where an enrolment's codes go: its email or phone number, on its channel. */
export interface OobTarget {
  readonly userId: string;
  readonly enrolmentId: string;
  readonly type: 'email' | 'phone';
  readonly address: string;
  readonly channel?: 'sms' | 'voice' | undefined;
}

export function oobTargetOf(e: MfaEnrolment): OobTarget | undefined {
  if ((e.type !== 'email' && e.type !== 'phone') || e.address === undefined) return undefined;
  return { userId: e.userId, enrolmentId: e.id, type: e.type, address: e.address, channel: e.channel };
}

/**
 * Sends a new six-digit code to the target and returns the challenge's `oob_code`, the opaque handle the
 * client presents with the code (the MFA API's mfa-oob grant, a hosted page, or My Account's auth_session).
 * @throws SmsNotSent when the SMS gateway refuses; nothing is kept then.
 */
export async function sendOobCode(deps: Deps, target: OobTarget): Promise<string> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const oobCode = randomBytes(24).toString('base64url');
  const nowSeconds = Math.floor(deps.clock.now() / 1000);
  const pending: PendingCode = {
    userId: target.userId,
    enrolmentId: target.enrolmentId,
    codeHash: hashCode(code).toString('base64url'),
    attempts: 0,
    expiresAt: nowSeconds + OOB_CODE_TTL_SECONDS,
  };
  const tenantName = tenantDisplayName(await deps.lookups.tenantSettings(), deps.tenantId);
  if (target.type === 'email') {
    await deps.mail.send(
      mailMessages.oneTimeCode({ to: target.address, code, ttlSeconds: OOB_CODE_TTL_SECONDS, tenantName }),
    );
  } else {
    await deps.sms.send({
      to: target.address,
      channel: target.channel ?? 'sms',
      body: `${code} is your ${tenantName} verification code. It expires in 5 minutes.`,
    });
  }
  await deps.oneTime.putOnce(`${KEY}${oobCode}`, JSON.stringify(pending), OOB_CODE_TTL_SECONDS);
  return oobCode;
}

/**
 * Checks the code the user typed against the challenge `oobCode` of `userId`. A right code ends the challenge;
 * a wrong one costs an attempt (the fifth ends it) and counts against the user's second-factor throttle, which
 * every node shares through Redis. The comparison is constant-time.
 */
export async function checkOobCode(
  deps: Deps,
  userId: string,
  oobCode: string,
  typed: string,
  log: WarningLog,
): Promise<OobCheck> {
  if (oobCode.length > 64) return { ok: false, reason: 'unknown' };
  const attempt = await secondFactorAttempt(deps, userId, log);
  if (attempt.refusal) return { ok: false, reason: 'throttled' };
  const raw = await deps.oneTime.takeOnce(`${KEY}${oobCode}`);
  const nowSeconds = Math.floor(deps.clock.now() / 1000);
  const pending = raw === undefined ? undefined : (JSON.parse(raw) as PendingCode);
  if (!pending || pending.userId !== userId || pending.expiresAt <= nowSeconds) {
    return { ok: false, reason: 'unknown' };
  }
  const expected = Buffer.from(pending.codeHash, 'base64url');
  if (/^\d{6}$/.test(typed) && timingSafeEqual(expected, hashCode(typed))) {
    await attempt.cancel();
    return { ok: true, enrolmentId: pending.enrolmentId };
  }
  const attempts = pending.attempts + 1;
  if (attempts < OOB_MAX_ATTEMPTS) {
    const next: PendingCode = { ...pending, attempts };
    await deps.oneTime.putOnce(`${KEY}${oobCode}`, JSON.stringify(next), pending.expiresAt - nowSeconds);
  }
  return { ok: false, reason: 'wrong' };
}
