import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Client } from '../domain/client.js';
import type { User } from '../domain/user.js';
import { formActionSource } from '../oauth/authorize/respond.js';
import {
  formIsGenuine,
  transactionCookieName,
  type ConsentStep,
  type LoginTransaction,
} from '../oauth/authorize/transaction.js';
import { message } from '../pages/messages.js';
import { sendPage } from '../pages/render.js';
import type { Deps } from '../server/deps.js';
import { readCookie } from '../server/sessions.js';
import { tenantName } from '../users/account-links.js';
import { createAuthorization } from './authorization.js';
import { CONSENT_DECLINED } from './consent.js';

/** Auth0's Universal Login posts `action=accept` or `action=deny`; "decline" is the button's own word. */
const DECLINE_ACTIONS = new Set(['deny', 'decline']);

interface Opened {
  readonly tx: LoginTransaction;
  readonly step: ConsentStep;
  readonly client: Client;
}

/**
 * The consent page (`/u/consent`): the state of a login transaction in which the user is known and only their
 * consent is missing. Accept records the grant and finishes the authorization; Decline answers `access_denied`.
 */
export const consentRoutes: FastifyPluginAsync<{ deps: Deps }> = async (app, { deps }) => {
  await app.register(formbody);
  const flow = createAuthorization(deps, app.log);
  const { consent } = flow;

  const page = async (
    reply: FastifyReply,
    { tx, step, client }: Opened,
    user: User,
    status: number,
    error: string | undefined,
  ): Promise<FastifyReply> => {
    const tenant = await tenantName(deps);
    const { apiName, identity, api } = await consent.items(step);
    const names = { client: client.name, tenant };
    return sendPage(
      reply.status(status),
      'consent',
      {
        issuer: deps.config.issuer,
        tenantName: tenant,
        clientName: client.name,
        action: consent.consentPath,
        state: tx.id,
        csrf: tx.csrf,
        error,
        identity,
        api,
        t: {
          title: message('consent.title', names),
          subtitle: message('consent.subtitle', names),
          signedInAs: message('consent.signed_in_as', { user: user.email ?? user.username ?? user.userId }),
          listLabel: message('consent.list_label', names),
          apiLabel: message('consent.api_label', { api: apiName ?? step.audience }),
          identityOnly: message('consent.identity_only', names),
          note: message('consent.note'),
          accept: message('consent.accept'),
          decline: message('consent.decline'),
        },
      },
      // Either button is answered by a 302 to the application's redirect URI, which form-action governs too.
      { formAction: formActionSource(tx.request.redirectUri) },
    );
  };

  /**
   * The consent transaction named by `state`, left in place, and its client; undefined answers with the error
   * page. Only an answer (Accept or Decline) takes it.
   */
  const open = async (state: unknown): Promise<Opened | undefined> => {
    if (typeof state !== 'string' || state === '') return undefined;
    const tx = await flow.transactions.peek(state);
    if (!tx?.consent) return undefined;
    const client = await deps.lookups.client(tx.request.clientId);
    return client ? { tx, step: tx.consent, client } : undefined;
  };

  const browserOf = (req: FastifyRequest, tx: LoginTransaction) =>
    readCookie(req.headers.cookie, transactionCookieName(tx.id));

  /** The SSO session and user the consent was asked of, if both are still signed in here. */
  const signedIn = async (req: FastifyRequest, step: ConsentStep) => {
    const session = await flow.sessions.current(req.headers.cookie);
    if (!session || session.id !== step.sessionId) return undefined;
    const user = await flow.sessionUser(session);
    return user && user.userId === step.userId ? { session, user } : undefined;
  };

  app.get('/u/consent', { schema: { hide: true } }, async (req, reply) => {
    const opened = await open((req.query as Record<string, unknown>)['state']);
    if (!opened) return flow.pageError(reply, 400, 'error.transaction_expired');
    // The page names the signed-in user: it is shown only to the browser that started the request (a GET has
    // no form, so only the browser binding is compared).
    if (!formIsGenuine(opened.tx, opened.tx.csrf, browserOf(req, opened.tx)))
      return flow.pageError(reply, 403, 'error.csrf');
    const who = await signedIn(req, opened.step);
    if (!who) return flow.pageError(reply, 400, 'error.transaction_expired');
    return page(reply, opened, who.user, 200, undefined);
  });

  app.post('/u/consent', { schema: { hide: true }, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const body = isRecord(req.body) ? req.body : {};
    const opened = await open(body['state']);
    if (!opened) return flow.pageError(reply, 400, 'error.transaction_expired');
    const { tx, step, client } = opened;
    if (!formIsGenuine(tx, body['csrf'], browserOf(req, tx))) return flow.pageError(reply, 403, 'error.csrf');
    const who = await signedIn(req, step);
    if (!who) return flow.pageError(reply, 400, 'error.transaction_expired');
    const action = body['action'];
    const declined = typeof action === 'string' && DECLINE_ACTIONS.has(action);
    if (action !== 'accept' && !declined)
      return page(reply, opened, who.user, 400, message('consent.choose'));
    // The answer is given once: a second tab that answered meanwhile finds the transaction gone.
    if (!(await flow.transactions.take(tx.id)))
      return flow.pageError(reply, 400, 'error.transaction_expired');
    void reply.header('set-cookie', consent.clearCookie(tx));
    if (declined) return flow.answer(reply, tx.request, CONSENT_DECLINED);
    await consent.record(tx, step);
    // The user has just answered: prompt=consent is satisfied and must not ask again.
    return flow.finish(reply, client, { ...tx.request, promptConsent: false }, who.user, who.session);
  });
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
