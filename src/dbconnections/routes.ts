import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Client } from '../domain/client.js';
import type { Connection } from '../domain/connection.js';
import { ownIdentity, userIdValue, type User } from '../domain/user.js';
import { BadRequest, Conflict } from '../errors/api.js';
import { createUserService, PasswordRejected } from '../management/users/service.js';
import type { Deps } from '../server/deps.js';
import { addressKey } from '../server/failed-auth-limit.js';
import { rateLimitHeaders } from '../server/rate-limit.js';
import { sendPasswordResetEmail, sendVerificationEmail } from '../users/account-links.js';
import { badRequest, DbConnectionError, passwordError, renderDbConnectionError } from './errors.js';

/** Auth0's answer to every change_password request, whether or not the address has an account. */
export const CHANGE_PASSWORD_ANSWER = "We've just sent you an email to reset your password.";

const PROFILE_FIELDS = ['given_name', 'family_name', 'name', 'nickname', 'picture'] as const;
const MAX_FIELD = 512;

/**
 * Auth0's database-connection endpoints of the Authentication API: public sign-up and the password-reset
 * email. Both take JSON or form bodies, as the SDKs send them, and answer Auth0's `{name, code, description,
 * statusCode}` errors.
 */
export const dbConnectionRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  await app.register(formbody);
  const users = createUserService(deps);
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = renderDbConnectionError(err);
    if (status >= 500) req.log.error({ err }, 'unhandled error');
    void reply.status(status).header('cache-control', 'no-store').send(body);
  });
  const address = (req: FastifyRequest) => addressKey(deps.tenantId, req.ip);
  // Failed sign-ups (and every reset request) count against the caller's address like failed client authentications.
  app.addHook('onRequest', async (req, reply) => {
    const refusal = deps.failedAuth.refusal(address(req));
    if (refusal) {
      void reply.headers(rateLimitHeaders(refusal));
      throw new DbConnectionError(429, 'too_many_attempts', 'Too many requests. Try again later.');
    }
  });
  const countFailure = (req: FastifyRequest) => deps.failedAuth.recordFailure(address(req), req.log);

  app.post('/dbconnections/signup', { bodyLimit: 64 * 1024 }, async (req, reply) => {
    const params = bodyOf(req.body);
    const facts = { ip: req.ip, userAgent: req.headers['user-agent'], hostname: req.hostname };
    let client: Client | undefined;
    let connection: Connection | undefined;
    try {
      client = await clientOf(deps, params);
      connection = await enabledConnection(deps, client, text(params, 'connection', true));
      if (connection.options['disable_signup'] === true) {
        throw badRequest('operation_not_allowed', 'Public signup is disabled');
      }
      const email = text(params, 'email', true);
      const user = await createUser(users, connection, params, email);
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
        const signedUp = user;
        void sendVerificationEmail(deps, signedUp, { clientId: client.clientId }).catch((error: unknown) => {
          req.log.warn({ err: error }, 'verification email failed');
        });
      }
      return await reply.header('cache-control', 'no-store').send(signupView(user));
    } catch (error) {
      await countFailure(req);
      deps.events.record({
        type: 'fs',
        description: error instanceof Error ? error.message : 'Signup failed',
        clientId: client?.clientId,
        clientName: client?.name,
        connection: connection?.name,
        connectionId: connection?.id,
        strategy: 'auth0',
        strategyType: 'database',
        ...facts,
      });
      throw error;
    }
  });

  app.post('/dbconnections/change_password', { bodyLimit: 64 * 1024 }, async (req, reply) => {
    const params = bodyOf(req.body);
    const client = await clientOf(deps, params);
    const connection = await enabledConnection(deps, client, text(params, 'connection', true));
    const email = text(params, 'email', true).toLowerCase();
    // Every request counts, so one address cannot flood inboxes; the answer never says whether the email has an account.
    await countFailure(req);
    const user = (await deps.store.users.findByEmail(email)).find(
      (u) => ownIdentity(u).connection === connection.name,
    );
    const facts = { ip: req.ip, userAgent: req.headers['user-agent'], hostname: req.hostname };
    const event = {
      clientId: client.clientId,
      clientName: client.name,
      connection: connection.name,
      connectionId: connection.id,
      strategy: 'auth0',
      strategyType: 'database',
      userName: email,
      ...facts,
    };
    if (user) {
      // Sent in the background: a known address must not answer more slowly than an unknown one.
      void sendPasswordResetEmail(deps, user, { clientId: client.clientId })
        .then(() => {
          deps.events.record({
            type: 'scpr',
            description: 'Password reset email sent',
            userId: user.userId,
            ...event,
          });
        })
        .catch((error: unknown) => {
          req.log.warn({ err: error }, 'password reset email failed');
          deps.events.record({
            type: 'fcpr',
            description: 'Password reset email could not be sent',
            userId: user.userId,
            ...event,
          });
        });
    } else {
      deps.events.record({ type: 'fcpr', description: 'No user with this email', ...event });
    }
    return reply
      .header('cache-control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send(CHANGE_PASSWORD_ANSWER);
  });
};

type Params = Readonly<Record<string, unknown>>;

function bodyOf(body: unknown): Params {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('invalid_body', 'The request body must be a JSON object or a form.');
  }
  return body as Params;
}

function text(params: Params, name: string, required: true): string;
function text(params: Params, name: string, required: false): string | undefined;
function text(params: Params, name: string, required: boolean): string | undefined {
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

async function clientOf(deps: Deps, params: Params): Promise<Client> {
  const clientId = text(params, 'client_id', true);
  const client = clientId.length <= 128 ? await deps.lookups.client(clientId) : undefined;
  if (!client) throw badRequest('invalid_client', 'Unknown client.');
  return client;
}

/** The database connection, which must be enabled for the client (Auth0's enabled_clients). */
async function enabledConnection(deps: Deps, client: Client, name: string): Promise<Connection> {
  const connection = name.length <= 128 ? await deps.store.connections.findByName(name) : undefined;
  if (
    !connection ||
    connection.strategy !== 'auth0' ||
    !connection.enabledClients.includes(client.clientId)
  ) {
    throw badRequest(
      'invalid_connection',
      'The connection does not exist or is not enabled for this client.',
    );
  }
  return connection;
}

/** Through the Management API's own user creation, so sign-up and POST /api/v2/users make the same users. */
async function createUser(
  users: ReturnType<typeof createUserService>,
  connection: Connection,
  params: Params,
  email: string,
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
    return await users.create({
      connection: connection.name,
      email,
      password: text(params, 'password', true),
      ...(username !== undefined && connection.options['requires_username'] === true ? { username } : {}),
      ...profile,
      ...(metadata !== undefined ? { user_metadata: metadata } : {}),
    });
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

/** Auth0's sign-up answer: the new identity, its id without the provider prefix. */
function signupView(user: User): Record<string, unknown> {
  return {
    _id: userIdValue(user.userId),
    email: user.email,
    email_verified: user.emailVerified,
    ...(user.username !== undefined ? { username: user.username } : {}),
    ...(user.givenName !== undefined ? { given_name: user.givenName } : {}),
    ...(user.familyName !== undefined ? { family_name: user.familyName } : {}),
    ...(user.name !== undefined ? { name: user.name } : {}),
    ...(user.nickname !== undefined ? { nickname: user.nickname } : {}),
    ...(user.picture !== undefined ? { picture: user.picture } : {}),
    ...(Object.keys(user.userMetadata).length > 0 ? { user_metadata: user.userMetadata } : {}),
  };
}
