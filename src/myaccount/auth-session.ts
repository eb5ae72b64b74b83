import { randomBytes } from 'node:crypto';
import { BadRequest } from '../errors/api.js';
import type { Deps } from '../server/deps.js';

/** An enrolment must be verified within this (spec 3.3: auth_session lives five minutes). */
export const AUTH_SESSION_SECONDS = 300;

const SESSION_KEY = 'me:auth_session:';

/**
 * What an auth_session stands for: one enrolment of one method type by one user, plus what its verification
 * checks (a passkey's challenge, a factor's pending method id). Kept in the one-time store: taken once.
 */
export interface AuthSession {
  readonly userId: string;
  /** The method type the ceremony enrols; a session of another type never verifies. */
  readonly type: string;
  /** Epoch ms; the store's TTL runs on its own clock (Redis), this one on the tenant's. */
  readonly expiresAt: number;
}

export const invalidSession = () =>
  new BadRequest('invalid_body', 'The auth_session is invalid, expired or already used.');

/** Stores `session` for AUTH_SESSION_SECONDS and returns the opaque auth_session that names it. */
export async function openAuthSession<S extends AuthSession>(
  deps: Pick<Deps, 'oneTime'>,
  session: Omit<S, 'expiresAt'>,
  now: number,
): Promise<string> {
  const authSession = randomBytes(32).toString('base64url');
  const value = JSON.stringify({ ...session, expiresAt: now + AUTH_SESSION_SECONDS * 1000 });
  await deps.oneTime.putOnce(`${SESSION_KEY}${authSession}`, value, AUTH_SESSION_SECONDS);
  return authSession;
}

/**
 * Takes the session (it is spent from here on) and checks it belongs to `userId` and `type` and has not expired.
 * @throws BadRequest invalid_body otherwise.
 */
export async function takeAuthSession<S extends AuthSession>(
  deps: Pick<Deps, 'oneTime'>,
  authSession: string,
  userId: string,
  type: string,
  now: number,
): Promise<S> {
  const stored = await deps.oneTime.takeOnce(`${SESSION_KEY}${authSession}`);
  if (stored === undefined) throw invalidSession();
  const session = JSON.parse(stored) as S;
  if (session.userId !== userId || session.type !== type) throw invalidSession();
  if (now > session.expiresAt) throw invalidSession();
  return session;
}

/**
 * Puts a taken session back under the same auth_session for the rest of its life (another attempt after a
 * wrong one-time code); nothing when its time is up.
 */
export async function restoreAuthSession(
  deps: Pick<Deps, 'oneTime'>,
  authSession: string,
  session: AuthSession & Record<string, unknown>,
  now: number,
): Promise<void> {
  const seconds = Math.floor((session.expiresAt - now) / 1000);
  if (seconds < 1) return;
  await deps.oneTime.putOnce(`${SESSION_KEY}${authSession}`, JSON.stringify(session), seconds);
}
