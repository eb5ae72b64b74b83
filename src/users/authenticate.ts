import { randomBytes } from 'node:crypto';
import type { Connection } from '../domain/connection.js';
import type { Identity, User } from '../domain/user.js';
import { checkPassword, hashPassword } from './passwords.js';

/** Brute-force protection: per user and IP, as Auth0 describes it. */
const BRUTE_FORCE = { limit: 10, windowSeconds: 900, blockSeconds: 900 } as const;

export type LoginFailure =
  /** No connection was named and the tenant has no default directory. */
  | 'no_default_connection'
  /** The named connection does not exist or is not a database connection. */
  | 'unknown_connection'
  /** The connection is not enabled for the application. */
  | 'connection_not_enabled'
  | 'wrong_credentials'
  | 'too_many_attempts'
  | 'blocked';

/** Why a sign-in failed; each surface words it its own way (OAuth error, login page message). */
export class LoginError extends Error {
  constructor(
    readonly reason: LoginFailure,
    /** The connection concerned, for messages that name it. */
    readonly connection: string | undefined,
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
  ) => Promise<User | undefined>;
  readonly loginFailures: {
    reserveAttempt(
      userId: string,
      ip: string,
      now: number,
      windowSeconds: number,
      limit: number,
    ): Promise<boolean>;
    recordFailure(
      userId: string,
      ip: string,
      now: number,
      limit: number,
      blockSeconds: number,
    ): Promise<void>;
    clear(userId: string, ip?: string): Promise<void>;
  };
}

export interface Authenticated {
  readonly user: User;
  readonly identity: Identity;
  readonly connection: Connection;
}

/**
 * Signs a user in with a password: the one path for the password grants, the login form and
 * `/dbconnections/*` — connection lookup, enabled clients, brute-force limits, decoy hash, rehash, blocked check.
 * @throws LoginError with the reason.
 */
export async function authenticateUser(input: PasswordLogin, deps: AuthenticateDeps): Promise<Authenticated> {
  const connection = await resolveConnection(input, deps);
  const match = await deps.findUserByLogin(connection.name, input.login);
  const hash = match?.identity.passwordHash;
  if (!match || hash === undefined) {
    // Spend the same hashing time as a real check so response time does not reveal which accounts exist.
    await checkPassword(input.password, await decoyHash());
    throw new LoginError('wrong_credentials', connection.name);
  }
  const { user, identity } = match;
  const now = deps.nowSeconds();
  const guarded = connection.options['brute_force_protection'] !== false;
  // The attempt is counted before the slow hash check, atomically, so parallel guesses share the limit.
  if (
    guarded &&
    !(await deps.loginFailures.reserveAttempt(
      user.userId,
      input.ip,
      now,
      BRUTE_FORCE.windowSeconds,
      BRUTE_FORCE.limit,
    ))
  ) {
    throw new LoginError('too_many_attempts', connection.name);
  }
  const check = await checkPassword(input.password, hash);
  if (!check.ok) {
    if (guarded) {
      await deps.loginFailures.recordFailure(
        user.userId,
        input.ip,
        now,
        BRUTE_FORCE.limit,
        BRUTE_FORCE.blockSeconds,
      );
    }
    throw new LoginError('wrong_credentials', connection.name);
  }
  if (guarded) await deps.loginFailures.clear(user.userId, input.ip);
  // Auth0 compat: a blocked user learns it only after the right password.
  if (user.blocked) throw new LoginError('blocked', connection.name);
  const rehash = check.needsRehash
    ? { identity, replacement: await hashPassword(input.password) }
    : undefined;
  const loggedIn = await deps.recordLogin(user, input.ip, rehash);
  if (!loggedIn) {
    // An admin blocked or deleted the user while the password was being checked.
    const reason = (await deps.findUser(user.userId)) ? 'blocked' : 'wrong_credentials';
    throw new LoginError(reason, connection.name);
  }
  return { user: loggedIn, identity, connection };
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
