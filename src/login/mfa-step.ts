import type { Session } from '../domain/session.js';
import { guardianConfig } from '../mfa/guardian.js';
import { MFA_ACR, mfaRequired, pendingEnrolment, usableFactors } from '../mfa/second-factor.js';
import { newTotpSecret } from '../mfa/totp.js';
import type { AuthorizeRequest } from '../oauth/authorize/request.js';
import type { MfaStep } from '../oauth/authorize/transaction.js';
import type { Deps } from '../server/deps.js';

/**
 * The second factor as a step of the login transaction: whether a sign-in needs one, which step it starts at,
 * and what the tokens say about it. The checks themselves are the shared core's (mfa/second-factor.ts).
 */

/** The first factor of a password sign-in (RFC 8176 `pwd`). */
export const PASSWORD_AMR: readonly string[] = ['pwd'];

/**
 * A passkey sign-in is multi-factor by itself: the key is something the user has (RFC 8176 `hwk`, proof of
 * possession of a key kept by an authenticator) and the login page requires user verification, a PIN or
 * biometric checked by the authenticator (`user`, as RFC 8176 names a user-presence/verification test whose
 * kind the server cannot see). Two factors of different kinds: `mfa`.
 */
export const PASSKEY_AMR: readonly string[] = ['hwk', 'user', 'mfa'];

/** `a` then the values of `b` it lacks. */
export function mergeAmr(a: readonly string[], b: readonly string[]): string[] {
  return [...a, ...b.filter((v) => !a.includes(v))];
}

/** The sign-in needs a second factor: the tenant's policy, or the request's `acr_values`. */
export async function mfaNeeded(deps: Deps, request: AuthorizeRequest): Promise<boolean> {
  return mfaRequired(guardianConfig(await deps.lookups.tenantSettings()), request.acrValues);
}

/** The session's sign-in did not include a second factor. */
export function lacksMfa(session: Session): boolean {
  return session.mfaAt === undefined;
}

/** The challenge step's factor when it is the user's passkey rather than an MFA enrolment. */
export const PASSKEY_FACTOR = 'passkey';

/** Which factor the challenge opens with: an app code first, recovery codes last (they are the way back). */
const PREFERENCE = ['totp', 'phone', 'email', 'recovery-code'] as const;

/**
 * The step after the first factor: a challenge of the user's preferred usable factor, or, for a user with
 * none, a TOTP enrolment (a pending enrolment row holds its secret until a code confirms it). Undefined when
 * the user has no factor and the tenant enables no TOTP to enrol.
 */
export async function mfaStepFor(
  deps: Deps,
  userId: string,
  amr: readonly string[],
  sessionId?: string,
): Promise<MfaStep | undefined> {
  const base = { userId, amr: [...amr], ...(sessionId !== undefined ? { sessionId } : {}) };
  const factors = await usableFactors(deps, userId);
  const first = PREFERENCE.map((type) => factors.find((f) => f.type === type)).find((f) => f !== undefined);
  if (first) return { ...base, kind: 'challenge', enrolmentId: first.id };
  // A user whose only strong factor is a passkey answers with it (the page offers it beside any factor).
  if ((await deps.store.passkeys.listForUser(userId)).length > 0)
    return { ...base, kind: 'challenge', enrolmentId: PASSKEY_FACTOR };
  const { enabled } = guardianConfig(await deps.lookups.tenantSettings());
  if (!enabled.includes('otp')) return undefined;
  const at = new Date(deps.clock.now()).toISOString();
  const enrolment = pendingEnrolment(userId, 'totp', at, { secret: newTotpSecret() });
  await deps.store.mfaEnrolments.replacePending(enrolment);
  return { ...base, kind: 'enrol', enrolmentId: enrolment.id };
}

/** The page of a second-factor step. */
export function mfaPath(issuer: string, step: MfaStep): string {
  return `${new URL(issuer).pathname}u/${step.kind === 'enrol' ? 'mfa-enrol' : 'mfa'}`;
}

/** Auth0's answer when a second factor is needed but the user has none and none can be enrolled. */
export const NO_FACTOR = {
  error: 'access_denied',
  error_description: 'Multi-factor authentication is required but no factor is available to the user',
} as const;

/** OIDC Core §3.1.2.6: prompt=none, but the user must complete a second factor first. */
export const INTERACTION_REQUIRED = {
  error: 'interaction_required',
  error_description: 'Multifactor authentication required',
} as const;

/**
 * What the tokens of a sign-in say about it: a multi-factor session's `amr` (tokens of a single-factor one
 * carry none, as Auth0's do), and `acr` = Auth0's multi-factor policy when the request asked for it.
 */
export function signInProof(
  session: Session,
  request: AuthorizeRequest,
): { amr?: readonly string[]; acr?: string } {
  if (session.mfaAt === undefined || !session.amr.includes('mfa')) return {};
  const asked = (request.acrValues ?? '').split(' ').includes(MFA_ACR);
  return { amr: session.amr, ...(asked ? { acr: MFA_ACR } : {}) };
}
