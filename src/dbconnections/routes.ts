import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Client } from '../domain/client.js';
import type { Connection } from '../domain/connection.js';
import { userIdValue, type User } from '../domain/user.js';
import { createUserService } from '../management/users/service.js';
import type { Deps } from '../server/deps.js';
import { addressKey } from '../server/failed-auth-limit.js';
import { rateLimitHeaders } from '../server/rate-limit.js';
import { requestPasswordReset } from './change-password.js';
import { badRequest, DbConnectionError, renderDbConnectionError } from './errors.js';
import { signUp, text, type Params } from './signup.js';

/** Auth0's answer to every change_password request, whether or not the address has an account. */
export const CHANGE_PASSWORD_ANSWER = "We've just sent you an email to reset your password.";

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
      const user = await signUp(deps, users, { client, connection, params, facts, log: req.log });
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
    await requestPasswordReset(deps, {
      client,
      connection,
      email,
      facts: { ip: req.ip, userAgent: req.headers['user-agent'], hostname: req.hostname },
      log: req.log,
    });
    return reply
      .header('cache-control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send(CHANGE_PASSWORD_ANSWER);
  });
};

function bodyOf(body: unknown): Params {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('invalid_body', 'The request body must be a JSON object or a form.');
  }
  return body as Params;
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
