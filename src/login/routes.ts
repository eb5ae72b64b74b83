import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Client } from '../domain/client.js';
import { loginFailureEvent, loginSuccessEvent, type LoginAttempt } from '../logs/login-events.js';
import type { RequestFacts } from '../logs/token-events.js';
import {
  formIsGenuine,
  transactionCookieName,
  type LoginTransaction,
} from '../oauth/authorize/transaction.js';
import { loginFailureMessage, message } from '../pages/messages.js';
import { sendPage } from '../pages/render.js';
import { tenantName } from '../users/account-links.js';
import { formActionSource } from '../oauth/authorize/respond.js';
import type { Deps } from '../server/deps.js';
import { readCookie } from '../server/sessions.js';
import { authenticateUser, LoginError } from '../users/authenticate.js';
import { createAuthorization } from './authorization.js';

/** Longest login name and password the form accepts (Auth0 caps passwords at 72 bytes for bcrypt; names at 320). */
const MAX_USERNAME = 320;
const MAX_PASSWORD = 1024;

/**
 * The hosted login page (`/u/login`): one state of the login transaction started by /authorize. A successful
 * sign-in starts the SSO session and finishes the authorization.
 */
export const loginRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  await app.register(formbody);
  const flow = createAuthorization(deps, app.log);
  const loginPath = `${new URL(deps.config.issuer).pathname}u/login`;

  const page = async (
    reply: FastifyReply,
    tx: LoginTransaction,
    client: Client,
    view: { status: number; username: string; error: string | undefined },
  ): Promise<FastifyReply> => {
    const tenant = await tenantName(deps);
    return sendPage(
      reply.status(view.status),
      'login',
      {
        issuer: deps.config.issuer,
        tenantName: tenant,
        action: loginPath,
        state: tx.id,
        csrf: tx.csrf,
        username: view.username,
        error: view.error,
        t: {
          title: message('login.title'),
          subtitle: message('login.subtitle', { tenant, client: client.name }),
          username: message('login.username'),
          password: message('login.password'),
          submit: message('login.submit'),
        },
      },
      // The form is answered by a 302 to the application's redirect URI, which form-action governs too.
      { formAction: formActionSource(tx.request.redirectUri) },
    );
  };

  /** The transaction named by `state`, and its client; undefined answers with the error page. */
  const open = async (state: unknown): Promise<{ tx: LoginTransaction; client: Client } | undefined> => {
    if (typeof state !== 'string' || state === '') return undefined;
    const tx = await flow.transactions.take(state);
    if (!tx) return undefined;
    const client = await deps.lookups.client(tx.request.clientId);
    return client ? { tx, client } : undefined;
  };

  app.get('/u/login', { schema: { hide: true } }, async (req, reply) => {
    const opened = await open((req.query as Record<string, unknown>)['state']);
    if (!opened) return flow.pageError(reply, 400, 'error.transaction_expired');
    await flow.transactions.keep(opened.tx);
    return page(reply, opened.tx, opened.client, {
      status: 200,
      username: opened.tx.request.loginHint ?? '',
      error: undefined,
    });
  });

  app.post('/u/login', { schema: { hide: true }, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const body = isRecord(req.body) ? req.body : {};
    const opened = await open(body['state']);
    if (!opened) return flow.pageError(reply, 400, 'error.transaction_expired');
    const { tx, client } = opened;
    const browser = readCookie(req.headers.cookie, transactionCookieName(tx.id));
    if (!formIsGenuine(tx, body['csrf'], browser)) {
      await flow.transactions.keep(tx);
      return flow.pageError(reply, 403, 'error.csrf');
    }
    const username = typeof body['username'] === 'string' ? body['username'].trim() : '';
    const password = typeof body['password'] === 'string' ? body['password'] : '';
    const again = async (status: number, error: string) => {
      await flow.transactions.keep(tx);
      return page(reply, tx, client, { status, username: username.slice(0, MAX_USERNAME), error });
    };
    if (
      username === '' ||
      password === '' ||
      username.length > MAX_USERNAME ||
      password.length > MAX_PASSWORD
    )
      return again(400, message('login.missing_fields'));

    const attempt: LoginAttempt = {
      clientId: client.clientId,
      clientName: client.name,
      userName: username,
      connection: tx.request.connection,
      userId: undefined,
    };
    const facts = requestFacts(req);
    let signedIn;
    try {
      signedIn = await authenticateUser(
        {
          clientId: client.clientId,
          connection: tx.request.connection,
          login: username,
          password,
          ip: req.ip,
        },
        flow.tokenDeps,
      );
    } catch (error) {
      if (!(error instanceof LoginError)) throw error;
      const text = message(loginFailureMessage(error.reason));
      const failed = { ...attempt, userId: error.userId, connection: error.connection ?? attempt.connection };
      deps.events.record(loginFailureEvent(failed, facts, error.reason, text));
      const throttled = ['too_many_attempts', 'identifier_throttled', 'address_throttled'].includes(
        error.reason,
      );
      return again(throttled ? 429 : 400, text);
    }
    const { user, connection } = signedIn;
    deps.events.record(
      loginSuccessEvent({ ...attempt, userId: user.userId, connection: connection.name }, facts),
    );
    // A sign-in forced by prompt=login or max_age replaces the browser's session: the old cookie stops working.
    const previous = await flow.sessions.current(req.headers.cookie);
    if (previous) await flow.sessions.end(previous);
    const { session, setCookie } = await flow.sessions.start(user.userId, {
      ip: req.ip,
      userAgent: req.headers['user-agent'],
    });
    const clearTx = `${transactionCookieName(tx.id)}=; Path=${loginPath}; HttpOnly; Max-Age=0`;
    void reply.header('set-cookie', [setCookie, clearTx]);
    return flow.finish(reply, client, tx.request, user, session);
  });
};

function requestFacts(req: FastifyRequest): RequestFacts {
  return { ip: req.ip, userAgent: req.headers['user-agent'], hostname: req.hostname };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
