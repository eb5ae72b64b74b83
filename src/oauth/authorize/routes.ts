import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Client } from '../../domain/client.js';
import type { Session } from '../../domain/session.js';
import { createAuthorization, type Authorization } from '../../login/authorization.js';
import type { Deps } from '../../server/deps.js';
import { AUTHORIZATION_ENDPOINT_DISCOVERY } from '../discovery.js';
import {
  AUTHORIZE_MAX_LENGTHS,
  AuthorizeErrorPage,
  AuthorizeRedirectError,
  parseAuthorizeRequest,
  type AuthorizeRequest,
} from './request.js';
import {
  INTERACTION_REQUIRED,
  lacksMfa,
  mfaNeeded,
  mfaPath,
  mfaStepFor,
  NO_FACTOR,
} from '../../login/mfa-step.js';
import { transactionCookieName, transactionCookiePath, type LoginTransaction } from './transaction.js';

/**
 * GET /authorize (RFC 6749 §4.1.1, OIDC Core §3.1.2): validate, then either answer at once from the SSO session
 * or park the request in a login transaction and send the browser to the login page.
 */
export const authorizeRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  const flow = createAuthorization(deps, app.log);
  const loginPath = `${new URL(deps.config.issuer).pathname}u/login`;
  const signupPath = `${new URL(deps.config.issuer).pathname}u/signup`;
  const secure = deps.config.issuer.startsWith('https:');
  /** Binds a transaction to this browser: its pages post only with this cookie. */
  const txCookie = (tx: LoginTransaction) =>
    [
      `${transactionCookieName(tx.id)}=${tx.browser}`,
      `Path=${transactionCookiePath(deps.config.issuer)}`,
      'HttpOnly',
      'SameSite=Lax',
      ...(secure ? ['Secure'] : []),
      `Max-Age=${String(tx.expiresAt - flow.nowSeconds())}`,
    ].join('; ');

  app.get(
    '/authorize',
    { config: { discovery: AUTHORIZATION_ENDPOINT_DISCOVERY }, schema: { hide: true } },
    async (req, reply) => {
      const query = req.query as Record<string, unknown>;
      let client: Client | undefined;
      let request: AuthorizeRequest;
      try {
        client = await findClient(deps, query['client_id']);
        request = parseAuthorizeRequest(query, client);
      } catch (error) {
        return refuse(flow, reply, error);
      }
      if (client === undefined) throw new Error('unreachable: parseAuthorizeRequest checks the client');
      if (request.audience === undefined) {
        const fallback = (await deps.lookups.tenantSettings())['default_audience'];
        if (typeof fallback === 'string' && fallback !== '') request = { ...request, audience: fallback };
      }

      const session = await flow.sessions.current(req.headers.cookie);
      const user = session && (await flow.sessionUser(session));
      if (session && user && !request.promptLogin && maxAgeAllows(request, session, flow.nowSeconds())) {
        // The session's sign-in had one factor but this one needs two: the second, without the password again.
        if (lacksMfa(session) && (await mfaNeeded(deps, request))) {
          if (request.promptNone) {
            flow.silentAuthLog(reply, client, request, user, INTERACTION_REQUIRED);
            return flow.answer(reply, request, INTERACTION_REQUIRED);
          }
          const step = await mfaStepFor(deps, user.userId, session.amr, session.id);
          if (!step) return flow.answer(reply, request, NO_FACTOR);
          await flow.sessions.touch(session);
          const tx = await flow.transactions.start(request, undefined, step);
          return reply
            .headers({ 'cache-control': 'no-store', 'set-cookie': txCookie(tx) })
            .redirect(`${mfaPath(deps.config.issuer, step)}?state=${encodeURIComponent(tx.id)}`, 302);
        }
        await flow.sessions.touch(session);
        return flow.finish(reply, client, request, user, session);
      }
      if (request.promptNone) {
        const result = { error: 'login_required', error_description: 'Login required' };
        flow.silentAuthLog(reply, client, request, undefined, result);
        return flow.answer(reply, request, result);
      }
      const tx = await flow.transactions.start(request);
      return reply
        .headers({ 'cache-control': 'no-store', 'set-cookie': txCookie(tx) })
        .redirect(
          `${request.screenHint === 'signup' ? signupPath : loginPath}?state=${encodeURIComponent(tx.id)}`,
          302,
        );
    },
  );
};

async function findClient(deps: Deps, clientId: unknown): Promise<Client | undefined> {
  if (typeof clientId !== 'string' || clientId === '') return undefined;
  if (clientId.length > (AUTHORIZE_MAX_LENGTHS['client_id'] ?? 0)) return undefined;
  return deps.lookups.client(clientId);
}

/** OIDC Core §3.1.2.1: a sign-in older than max_age seconds does not count. */
function maxAgeAllows(request: AuthorizeRequest, session: Session, now: number): boolean {
  return request.maxAge === undefined || now - session.authenticatedAt <= request.maxAge;
}

function refuse(flow: Authorization, reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof AuthorizeRedirectError) {
    return flow.answer(reply, error.target, { error: error.code, error_description: error.description });
  }
  if (error instanceof AuthorizeErrorPage)
    return flow.errorPage(reply, error.status, error.message, error.code);
  throw error;
}
