import { createHash, randomBytes } from 'node:crypto';
import { isSessionActive, type Session } from '../domain/session.js';
import type { Deps } from './deps.js';

/** Auth0's SSO cookie name. */
export const SESSION_COOKIE = 'auth0';
/**
 * Auth0's fallback for browsers that refuse `SameSite=None` (older Safari and Chrome drop or misread it): the
 * same value without a SameSite attribute, read when the first is missing.
 */
export const COMPAT_SESSION_COOKIE = 'auth0_compat';

/**
 * Auth0's defaults when the tenant sets none: 7 days absolute (`session_lifetime` 168 hours) and 3 days idle
 * (`idle_session_lifetime` 72 hours), the values bootstrap writes (bootstrap/service.ts). Auth0 documents the
 * settings, in minutes, at https://auth0.com/docs/manage-users/sessions/configure-session-lifetime-settings
 * ("Inactivity timeout … 4,320 minutes (3 days)").
 */
export const DEFAULT_SESSION_MINUTES = 168 * 60;
export const DEFAULT_IDLE_SESSION_MINUTES = 72 * 60;

export interface SessionLifetimes {
  readonly absoluteSeconds: number;
  readonly idleSeconds: number;
}

/** Minutes under `<name>_in_minutes`, or hours under `<name>` (settings written before minutes existed). */
function minutes(settings: Readonly<Record<string, unknown>>, name: string, fallback: number): number {
  const inMinutes = settings[`${name}_in_minutes`];
  if (typeof inMinutes === 'number' && inMinutes > 0) return inMinutes;
  const hours = settings[name];
  if (typeof hours === 'number' && hours > 0) return Math.round(hours * 60);
  return fallback;
}

export function sessionLifetimes(settings: Readonly<Record<string, unknown>>): SessionLifetimes {
  return {
    absoluteSeconds: minutes(settings, 'session_lifetime', DEFAULT_SESSION_MINUTES) * 60,
    idleSeconds: minutes(settings, 'idle_session_lifetime', DEFAULT_IDLE_SESSION_MINUTES) * 60,
  };
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** SSO sessions behind the `auth0` cookie: created at sign-in, found and touched by /authorize. */
export function createSessions(deps: Deps) {
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);
  const secure = deps.config.issuer.startsWith('https:');
  const lifetimes = async () => sessionLifetimes(await deps.lookups.tenantSettings());

  const cookie = (name: string, value: string, maxAge: number, sameSite: string | undefined): string =>
    [
      `${name}=${value}`,
      'Path=/',
      'HttpOnly',
      ...(sameSite === undefined ? [] : [`SameSite=${sameSite}`]),
      ...(secure ? ['Secure'] : []),
      `Max-Age=${String(Math.max(0, maxAge))}`,
    ].join('; ');
  // Cross-site POSTs (form_post) and iframes need None, which browsers accept only with Secure; beside it goes
  // Auth0's compat cookie for browsers that refuse None. A plain-http issuer is a development setup: one Lax
  // cookie without Secure, so that it is kept at all.
  const cookies = (value: string, maxAge: number): string[] =>
    secure
      ? [
          cookie(SESSION_COOKIE, value, maxAge, 'None'),
          cookie(COMPAT_SESSION_COOKIE, value, maxAge, undefined),
        ]
      : [cookie(SESSION_COOKIE, value, maxAge, 'Lax')];

  // The client each session was started for (and recorded with), as long as the session object lives.
  const startedFor = new WeakMap<Session, string>();

  return {
    /** The active session the request's cookie names, or undefined. */
    async current(cookieHeader: string | undefined): Promise<Session | undefined> {
      const token =
        readCookie(cookieHeader, SESSION_COOKIE) ??
        (secure ? readCookie(cookieHeader, COMPAT_SESSION_COOKIE) : undefined);
      if (token === undefined || token === '' || token.length > 128) return undefined;
      const session = await deps.store.sessions.findByTokenHash(hashToken(token));
      return session && isSessionActive(session, nowSeconds()) ? session : undefined;
    },
    /**
     * A new session for a user who just signed in to `clientId`, with the Set-Cookie values that carry it;
     * `replacing` (the browser's previous session, when a sign-in was forced) ends in the same transaction.
     * `amr` lists how the user authenticated (RFC 8176); with `mfa` in it the session starts multi-factor.
     */
    async start(
      userId: string,
      from: { ip: string; userAgent: string | undefined },
      clientId: string,
      replacing?: Session,
      amr: readonly string[] = ['pwd'],
    ): Promise<{ session: Session; setCookies: string[] }> {
      const now = nowSeconds();
      const { absoluteSeconds, idleSeconds } = await lifetimes();
      const token = randomBytes(32).toString('base64url');
      const session: Session = {
        id: deps.ids.prefixed('ses'),
        userId,
        createdAt: now,
        authenticatedAt: now,
        lastInteractionAt: now,
        expiresAt: now + absoluteSeconds,
        idleExpiresAt: Math.min(now + idleSeconds, now + absoluteSeconds),
        revokedAt: undefined,
        ip: from.ip,
        userAgent: from.userAgent?.slice(0, 512),
        amr: [...amr],
        mfaAt: amr.includes('mfa') ? now : undefined,
      };
      await deps.store.transaction(async (repos) => {
        if (replacing) await repos.sessions.revoke(replacing.id, now);
        await repos.sessions.insert(session, hashToken(token));
        await repos.sessions.addClient(session.id, clientId, now);
      });
      startedFor.set(session, clientId);
      return { session, setCookies: cookies(token, absoluteSeconds) };
    },
    /** A second factor completed in the session: it becomes multi-factor with `amr`, from now. */
    async recordMfa(session: Session, amr: readonly string[]): Promise<Session> {
      const now = nowSeconds();
      await deps.store.sessions.recordMfa(session.id, now, amr);
      return { ...session, amr: [...amr], mfaAt: now };
    },
    /** Ends the session (logout, an administrator, a new sign-in replacing it): its cookie finds nothing after. */
    async end(session: Session): Promise<void> {
      await deps.store.sessions.revoke(session.id, nowSeconds());
    },
    /** The session signed the user in to `clientId` (Auth0's session `clients`). */
    async signedInTo(session: Session, clientId: string): Promise<void> {
      // A session started for this client already holds it: no second write in the same sign-in.
      if (startedFor.get(session) === clientId) return;
      await deps.store.sessions.addClient(session.id, clientId, nowSeconds());
    },
    /** The Set-Cookie values that remove the cookies: the attributes they were set with, emptied and expired. */
    clearCookies(): string[] {
      return cookies('', 0);
    },
    /** The user used the session: its idle window restarts, never beyond its absolute expiry. */
    async touch(session: Session): Promise<void> {
      const now = nowSeconds();
      const { idleSeconds } = await lifetimes();
      await deps.store.sessions.touch(session.id, now, Math.min(now + idleSeconds, session.expiresAt));
    },
  };
}
export type Sessions = ReturnType<typeof createSessions>;
