import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from '../domain/connection.js';
import type { Identity, User } from '../domain/user.js';
import { checkPassword, hashPassword, isVerifiableHash } from './passwords.js';

/** Brute-force protection: per login name and IP, as Auth0 describes it per user and IP. */
export const BRUTE_FORCE_PROTECTION = { limit: 10, windowSeconds: 900, blockSeconds: 900 } as const;

/**
 * Every password sign-in answers no sooner than this after it started, whatever happened: unknown user,
 * wrong password, argon2id or imported bcrypt hash (at most cost 10, ~45 ms on the 2-core development
 * machine), block or throttle. The wait is a timer, not work, so it costs no CPU. See bench/users.js.
 */
export const PASSWORD_CHECK_FLOOR_MS = 250;

export type LoginFailure =
  /** No connection was named and the tenant has no default directory. */
  | 'no_default_connection'
  /** The named connection does not exist or is not a database connection. */
  | 'unknown_connection'
  /** The connection is not enabled for the application. */
  | 'connection_not_enabled'
  /** No account of the connection has this email or username. */
  | 'unknown_user'
  | 'wrong_password'
  /** The account has no password it can sign in with (none set, or an imported hash above the cost cap). */
  | 'password_unusable'
  /** Brute-force protection: too many failures for this login name from this address; a listed, liftable block. */
  | 'too_many_attempts'
  /** Too many failed sign-ins for this login name from every address together. */
  | 'identifier_throttled'
  /** Too many failed sign-ins from this address, whatever the login names (Auth0's suspicious IP throttling). */
  | 'address_throttled'
  | 'blocked'
  /** A passkey sign-in of the login page: the assertion, its challenge or its credential did not check out. */
  | 'passkey_refused';

/** Why a sign-in failed; each surface words it its own way (OAuth error, login page message). */
export class LoginError extends Error {
  constructor(
    readonly reason: LoginFailure,
    /** The connection concerned, for messages that name it. */
    readonly connection: string | undefined,
    /** The account the login name belongs to, when it belongs to one (for logs; never shown to the caller). */
    readonly userId?: string,
  ) {
    super(reason);
  }
}

export interface PasswordLogin {
  readonly clientId: string;
  /** The connection to sign in with; the tenant's default directory when undefined. */
  readonly connection: string | undefined;
  /** Email or username. */
  readonly login: string;
  readonly password: string;
  readonly ip: string;
}

/** A sign-in attempt counted against the caller's address and the login name before its password is checked. */
export interface ThrottledAttempt {
  readonly refusal: 'address' | 'identifier' | undefined;
  /** The password was right: the attempt is no failure. */
  succeeded(): Promise<void>;
}

export interface AuthenticateDeps {
  readonly nowSeconds: () => number;
  readonly tenantSettings: () => Promise<Readonly<Record<string, unknown>>>;
  readonly findConnection: (name: string) => Promise<Connection | undefined>;
  readonly findUserByLogin: (
    connection: string,
    login: string,
  ) => Promise<{ readonly user: User; readonly identity: Identity } | undefined>;
  readonly findUser: (userId: string) => Promise<User | undefined>;
  /**
   * Records a successful login (count, time, IP) without touching other columns and, when given, replaces the
   * identity's password hash only if it is still the one that was verified.
   * @returns the user as stored afterwards, or undefined when it is now blocked or gone.
   */
  readonly recordLogin: (
    user: User,
    ip: string,
    rehash: { readonly identity: Identity; readonly replacement: string } | undefined,
    /** Brute-force records of this subject (see `loginFailures`) and `ip` to clear in the same transaction. */
    clearFailures?: string,
  ) => Promise<User | undefined>;
  /** Counts the attempt per address and per login name (`subject`), shared between nodes. */
  readonly throttleLogin: (subject: string, ip: string) => Promise<ThrottledAttempt>;
  /** Per login name and IP (`subject` as for `throttleLogin`): Auth0's brute-force blocks, listed by /user-blocks. */
  readonly loginFailures: {
    reserveAttempt(
      subject: string,
      ip: string,
      now: number,
      windowSeconds: number,
      limit: number,
    ): Promise<boolean>;
    recordFailure(
      subject: string,
      ip: string,
      now: number,
      limit: number,
      blockSeconds: number,
    ): Promise<void>;
    clear(subject: string, ip?: string): Promise<void>;
  };
  /** Defaults to PASSWORD_CHECK_FLOOR_MS. */
  readonly passwordCheckFloorMs?: number;
}

export interface Authenticated {
  readonly user: User;
  readonly identity: Identity;
  readonly connection: Connection;
}

/**
 * Signs a user in with a password: the one path for the password grants, the login form and
 * `/dbconnections/*` — connection lookup, enabled clients, throttles per address and per login name,
 * brute-force blocks, decoy hash, rehash, blocked check — answering no sooner than the floor.
 * @throws LoginError with the reason.
 */
export async function authenticateUser(input: PasswordLogin, deps: AuthenticateDeps): Promise<Authenticated> {
  const started = performance.now();
  try {
    return await signIn(input, deps);
  } finally {
    // Timing must not tell known from unknown accounts, argon2id from imported bcrypt, or a block from a guess.
    const left = started + (deps.passwordCheckFloorMs ?? PASSWORD_CHECK_FLOOR_MS) - performance.now();
    if (left > 0) await sleep(left);
  }
}

async function signIn(input: PasswordLogin, deps: AuthenticateDeps): Promise<Authenticated> {
  const connection = await resolveConnection(input, deps);
  const match = await deps.findUserByLogin(connection.name, input.login);
  // An account's failures count once whichever of its login names is typed; a name without an account counts
  // on its own, through the same steps, so throttling and blocks answer alike for both.
  const subject = match?.user.userId ?? unknownLoginSubject(connection.name, input.login);
  const fail = (reason: LoginFailure) => new LoginError(reason, connection.name, match?.user.userId);
  const attempt = await deps.throttleLogin(subject, input.ip);
  if (attempt.refusal)
    throw fail(attempt.refusal === 'address' ? 'address_throttled' : 'identifier_throttled');
  const now = deps.nowSeconds();
  const guarded = connection.options['brute_force_protection'] !== false;
  // The attempt is counted before the slow hash check, atomically, so parallel guesses share the limit.
  if (
    guarded &&
    !(await deps.loginFailures.reserveAttempt(
      subject,
      input.ip,
      now,
      BRUTE_FORCE_PROTECTION.windowSeconds,
      BRUTE_FORCE_PROTECTION.limit,
    ))
  ) {
    throw fail('too_many_attempts');
  }
  const hash = match?.identity.passwordHash;
  const usable = hash !== undefined && isVerifiableHash(hash);
  // Without a usable hash, spend the same hashing time on a decoy as a real check would.
  const check = await checkPassword(input.password, usable ? hash : await decoyHash());
  if (!match || !usable || !check.ok) {
    if (guarded) {
      await deps.loginFailures.recordFailure(
        subject,
        input.ip,
        now,
        BRUTE_FORCE_PROTECTION.limit,
        BRUTE_FORCE_PROTECTION.blockSeconds,
      );
    }
    throw fail(!match ? 'unknown_user' : !usable ? 'password_unusable' : 'wrong_password');
  }
  await attempt.succeeded();
  const { user, identity } = match;
  // Auth0 compat: a blocked user learns it only after the right password.
  if (user.blocked) {
    if (guarded) await deps.loginFailures.clear(subject, input.ip);
    throw fail('blocked');
  }
  const rehash = check.needsRehash
    ? { identity, replacement: await hashPassword(input.password) }
    : undefined;
  const loggedIn = await deps.recordLogin(user, input.ip, rehash, guarded ? subject : undefined);
  if (!loggedIn) {
    // An admin blocked or deleted the user while the password was being checked.
    throw fail((await deps.findUser(user.userId)) ? 'blocked' : 'wrong_password');
  }
  return { user: loggedIn, identity, connection };
}

/** Longer than any email or username an account can hold; a longer name is keyed by its digest. */
const MAX_KEYED_LOGIN = 320;

/**
 * The key under which failures for a login name without an account are counted: the name as the account
 * lookup compares it (case-insensitively), within its connection.
 */
export function unknownLoginSubject(connection: string, login: string): string {
  const normalised = login.toLowerCase();
  const name =
    normalised.length <= MAX_KEYED_LOGIN
      ? normalised
      : `sha256:${createHash('sha256').update(normalised).digest('hex')}`;
  // User ids (`provider|id`) never start with `login:`.
  return `login:${connection}:${name}`;
}

async function resolveConnection(input: PasswordLogin, deps: AuthenticateDeps): Promise<Connection> {
  let name = input.connection;
  if (name === undefined) {
    const fallback = (await deps.tenantSettings())['default_directory'];
    name = typeof fallback === 'string' ? fallback : undefined;
  }
  if (name === undefined || name === '') throw new LoginError('no_default_connection', undefined);
  const connection = await deps.findConnection(name);
  if (!connection || connection.strategy !== 'auth0') throw new LoginError('unknown_connection', name);
  if (!connection.enabledClients.includes(input.clientId)) {
    throw new LoginError('connection_not_enabled', connection.name);
  }
  return connection;
}

let decoy: Promise<string> | undefined;
function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}
