import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { Client } from '../domain/client.js';
import type { Session } from '../domain/session.js';
import type { User } from '../domain/user.js';
import { OAuthError } from '../errors/oauth.js';
import { createCodeStore } from '../oauth/authorize/codes.js';
import type { AuthorizeRequest, ReplyTarget } from '../oauth/authorize/request.js';
import {
  formActionSource,
  queryLocation,
  responseParams,
  type AuthorizeResult,
} from '../oauth/authorize/respond.js';
import { createTransactionStore } from '../oauth/authorize/transaction.js';
import { parseScope } from '../oauth/params.js';
import { subjectProblem } from '../oauth/tokens/subject-standing.js';
import { decideUserAccess } from '../oauth/tokens/user-tokens.js';
import { message, type MessageKey } from '../pages/messages.js';
import { sendPage } from '../pages/render.js';
import type { Deps } from '../server/deps.js';
import { createSessions } from '../server/sessions.js';
import { createTokenEndpointDeps } from '../server/token-endpoint-deps.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * What /authorize and the login page share: the session, transaction and code stores, and the last step of
 * every authorization (policy, code, answer to the client).
 */
export function createAuthorization(deps: Deps, log: FastifyBaseLogger) {
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);
  const tokenDeps = createTokenEndpointDeps(deps, log);
  const codes = createCodeStore(deps.oneTime);
  const transactions = createTransactionStore(deps.oneTime, nowSeconds);
  const sessions = createSessions(deps);

  /** Answers the client at its redirect URI, in its response mode. */
  const answer = (reply: FastifyReply, target: ReplyTarget, result: AuthorizeResult): FastifyReply => {
    if (target.responseMode === 'form_post') {
      return sendPage(
        reply.headers(NO_STORE),
        'form-post',
        {
          title: message('form_post.title'),
          noscript: message('form_post.noscript'),
          submit: message('form_post.submit'),
          action: target.redirectUri,
          fields: responseParams(target, result).map(([name, value]) => ({ name, value })),
        },
        { formAction: formActionSource(target.redirectUri) },
      );
    }
    return reply.headers(NO_STORE).redirect(queryLocation(target, result), 302);
  };

  /** An HTML error page: for refusals that must not go to an unverified redirect URI. */
  const errorPage = (
    reply: FastifyReply,
    status: number,
    text: string,
    code: string | undefined,
  ): FastifyReply =>
    sendPage(reply.status(status), 'error', {
      issuer: deps.config.issuer,
      title: message('error.title'),
      message: text,
      code,
    });

  const pageError = (reply: FastifyReply, status: number, key: MessageKey) =>
    errorPage(reply, status, message(key), undefined);

  /**
   * The seed-002 user-delegated policy (the engine the token endpoint uses), then consent, which the hosted
   * pages cannot ask for yet: a third-party application is refused.
   */
  const refusalOf = async (
    client: Client,
    request: AuthorizeRequest,
    user: User,
  ): Promise<AuthorizeResult | undefined> => {
    if (!client.isFirstParty) {
      return request.promptNone
        ? { error: 'consent_required', error_description: 'Consent required' }
        : {
            error: 'access_denied',
            error_description: 'Consent is required for third-party applications and is not available yet.',
          };
    }
    try {
      await decideUserAccess(
        {
          client,
          user,
          audience: request.audience,
          requested: parseScope(request.scope),
          gty: 'authorization_code',
          from: { ip: '', userAgent: undefined },
        },
        tokenDeps,
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return { error: 'access_denied', error_description: error.message };
    }
  };

  return {
    tokenDeps,
    transactions,
    sessions,
    nowSeconds,
    answer,
    errorPage,
    pageError,
    /** The user may still use the session: present and neither blocked nor replaced since it began. */
    async sessionUser(session: Session): Promise<User | undefined> {
      const user = await deps.store.users.findById(session.userId);
      return user && subjectProblem(user, session.authenticatedAt) === undefined ? user : undefined;
    },
    /** The last step: the policy decides, then a code goes to the client (or the refusal does). */
    async finish(
      reply: FastifyReply,
      client: Client,
      request: AuthorizeRequest,
      user: User,
      session: Session,
    ): Promise<FastifyReply> {
      const target: ReplyTarget = request;
      const refusal = await refusalOf(client, request, user);
      if (refusal) return answer(reply, target, refusal);
      await sessions.signedInTo(session, client.clientId);
      const code = await codes.issue({
        clientId: client.clientId,
        redirectUri: request.redirectUri,
        redirectUriSent: request.redirectUriSent,
        codeChallenge: request.codeChallenge,
        codeChallengeMethod: request.codeChallengeMethod,
        nonce: request.nonce,
        scope: request.scope,
        audience: request.audience,
        userId: user.userId,
        sid: session.id,
        authTime: session.authenticatedAt,
        refreshFamilyId: deps.ids.prefixed('rtf'),
      });
      return answer(reply, target, { code });
    },
  };
}
export type Authorization = ReturnType<typeof createAuthorization>;
