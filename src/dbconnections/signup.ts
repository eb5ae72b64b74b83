import type { FastifyBaseLogger } from 'fastify';
import type { Client } from '../domain/client.js';
import type { Passkey } from '../domain/passkey.js';
import type { Connection } from '../domain/connection.js';
import type { User } from '../domain/user.js';
import { BadRequest, Conflict } from '../errors/api.js';
import { PasswordRejected, type createUserService } from '../management/users/service.js';
import type { RequestFacts } from '../logs/token-events.js';
import type { Deps } from '../server/deps.js';
import { sendVerificationEmail } from '../users/account-links.js';
import { badRequest, passwordError } from './errors.js';

const PROFILE_FIELDS = ['given_name', 'family_name', 'name', 'nickname', 'picture'] as const;
const MAX_FIELD = 512;

export type Params = Readonly<Record<string, unknown>>;

export interface SignUp {
  readonly client: Client;
  /** The database connection, already checked to be enabled for the client. */
  readonly connection: Connection;
  /** `email`, `password` and the optional profile fields, as /dbconnections/signup takes them. */
  readonly params: Params;
  readonly facts: RequestFacts;
  readonly log: FastifyBaseLogger;
  /** Native passkey sign-up: the user gets this passkey instead of a password. */
  readonly passkey?: Omit<Passkey, 'userId'>;
}

/**
 * Public sign-up, shared by /dbconnections/signup and the hosted sign-up page: the connection must allow it,
 * the user is made by the Management API's user creation (password policy included), the success is logged
 * (`ss`) and the verification email goes out in the background.
 * @throws DbConnectionError in Auth0's terms (operation_not_allowed, invalid_password, user_exists, …).
 */
export async function signUp(
  deps: Deps,
  users: ReturnType<typeof createUserService>,
  input: SignUp,
): Promise<User> {
  const { client, connection, params, facts } = input;
  if (signupDisabled(connection)) throw badRequest('operation_not_allowed', 'Public signup is disabled');
  const email = text(params, 'email', true);
  const user = await createUser(users, connection, params, email, input.passkey);
  deps.events.record({
    type: 'ss',
    description: 'Successful signup',
    clientId: client.clientId,
    clientName: client.name,
    connection: connection.name,
    connectionId: connection.id,
    strategy: 'auth0',
    strategyType: 'database',
    userId: user.userId,
    userName: user.email,
    ...facts,
  });
  // As Auth0 does, a new user is asked to verify the address; sent in the background.
  if (!user.emailVerified) {
    void sendVerificationEmail(deps, user, { clientId: client.clientId }).catch((error: unknown) => {
      input.log.warn({ err: error }, 'verification email failed');
    });
  }
  return user;
}

/** Auth0's `disable_signup` connection option. */
export function signupDisabled(connection: Connection): boolean {
  return connection.options['disable_signup'] === true;
}

export function text(params: Params, name: string, required: true): string;
export function text(params: Params, name: string, required: false): string | undefined;
export function text(params: Params, name: string, required: boolean): string | undefined {
  const value = params[name];
  if (value === undefined || value === '') {
    if (required) throw badRequest('invalid_body', `Missing required parameter: ${name}`);
    return undefined;
  }
  if (typeof value !== 'string' || value.length > MAX_FIELD) {
    throw badRequest(
      'invalid_body',
      `Invalid parameter: ${name} must be a string of at most ${MAX_FIELD} characters`,
    );
  }
  return value;
}

/** Through the Management API's own user creation, so sign-up and POST /api/v2/users make the same users. */
async function createUser(
  users: ReturnType<typeof createUserService>,
  connection: Connection,
  params: Params,
  email: string,
  passkey: Omit<Passkey, 'userId'> | undefined,
): Promise<User> {
  const profile: Record<string, string> = {};
  for (const field of PROFILE_FIELDS) {
    const value = text(params, field, false);
    if (value !== undefined) profile[field] = value;
  }
  const username = text(params, 'username', false);
  if (connection.options['requires_username'] === true && username === undefined) {
    throw badRequest('invalid_signup', 'Missing required parameter: username');
  }
  const metadata = params['user_metadata'];
  if (metadata !== undefined && !isStringRecord(metadata)) {
    throw badRequest('invalid_body', 'Invalid parameter: user_metadata must be an object of strings');
  }
  try {
    const password = passkey === undefined ? { password: text(params, 'password', true) } : {};
    return await users.create(
      {
        connection: connection.name,
        email,
        ...password,
        ...(username !== undefined && connection.options['requires_username'] === true ? { username } : {}),
        ...profile,
        ...(metadata !== undefined ? { user_metadata: metadata } : {}),
      },
      passkey === undefined ? {} : { passkey },
    );
  } catch (error) {
    if (error instanceof PasswordRejected) throw passwordError(error.rejection);
    if (error instanceof Conflict) throw badRequest('user_exists', 'The user already exists.');
    if (error instanceof BadRequest) throw badRequest('invalid_signup', 'Invalid sign up');
    throw error;
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length <= 10 &&
    Object.values(value).every((v) => typeof v === 'string' && v.length <= 500)
  );
}
