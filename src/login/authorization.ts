import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { Client } from '../domain/client.js';
import type { Session } from '../domain/session.js';
import type { User } from '../domain/user.js';
import { OAuthError } from '../errors/oauth.js';
import { silentAuthEvent } from '../logs/authorize-events.js';
import { createCodeStore } from '../oauth/authorize/codes.js';
import type { AuthorizeRequest, ReplyTarget } from '../oauth/authorize/request.js';
import {
  formActionSource,
  fragmentLocation,
  queryLocation,
  responseParams,
  type AuthorizeResult,
  type AuthorizeSuccess,
} from '../oauth/authorize/respond.js';
import { createTransactionStore } from '../oauth/authorize/transaction.js';
import { parseScope } from '../oauth/params.js';
import { subjectProblem } from '../oauth/tokens/subject-standing.js';
import { decideUserAccess, issueUserTokens, type UserAccessDecision } from '../oauth/tokens/user-tokens.js';
import { message, type MessageKey } from '../pages/messages.js';
import { sendPage } from '../pages/render.js';
import type { Deps } from '../server/deps.js';
import { createSessions } from '../server/sessions.js';
import { createTokenEndpointDeps } from '../server/token-endpoint-deps.js';
import { CONSENT_REQUIRED, createConsent } from './consent.js';
import { signInProof } from './mfa-step.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * What /authorize and the login page share: the session, transaction and code stores, and the last step of
 * every authorization (policy, code, answer to the client).
 */
export function createAuthorization(deps: Deps, log: FastifyBaseLogger) {
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);
  const tokenDeps = createTokenEndpointDeps(deps, log);
  const codes = createCodeStore(deps.oneTime, nowSeconds);
  const transactions = createTransactionStore(deps.oneTime, nowSeconds);
  const sessions = createSessions(deps);
  const consent = createConsent(deps, transactions, nowSeconds);

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
    if (target.responseMode === 'web_message') {
      // request.ts admitted the mode only for a redirect URI at one of the client's web origins.
      const origin = new URL(target.redirectUri).origin;
      return sendPage(
        reply.headers(NO_STORE),
        'web-message',
        {
          issuer: deps.config.issuer,
          title: message('web_message.title'),
          text: message('web_message.text'),
          origin,
          response: JSON.stringify(Object.fromEntries(responseParams(target, result))),
        },
        { frameAncestors: origin, keepOpener: true },
      );
    }
    const location =
      target.responseMode === 'fragment' ? fragmentLocation(target, result) : queryLocation(target, result);
    return reply.headers(NO_STORE).redirect(location, 302);
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
   * The seed-002 user-delegated policy (the engine the token endpoint uses) for what the request asks, before
   * the user's consent narrows it: a refusal goes back as `access_denied`.
   */
  const policyOf = async (
    client: Client,
    request: AuthorizeRequest,
    user: User,
  ): Promise<UserAccessDecision | Extract<AuthorizeResult, { error: string }>> => {
    try {
      return await decideUserAccess(
        {
          client,
          user,
          audience: request.audience,
          requested: parseScope(request.scope),
          gty: 'authorization_code',
          from: { ip: '', userAgent: undefined },
          beforeConsent: true,
        },
        tokenDeps,
      );
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return { error: 'access_denied', error_description: error.message };
    }
  };

  /** Auth0's `ssa` / `fsa` for a prompt=none request: whether the session answered it. */
  const silentAuthLog = (
    reply: FastifyReply,
    client: Client,
    request: AuthorizeRequest,
    user: User | undefined,
    result: AuthorizeResult,
  ): void => {
    const req = reply.request;
    deps.events.record(
      silentAuthEvent(
        {
          clientId: client.clientId,
          clientName: client.name,
          userId: user?.userId,
          userName: user === undefined ? undefined : (user.email ?? user.username),
          audience: request.audience,
          scope: request.scope,
        },
        { ip: req.ip, userAgent: req.headers['user-agent'], hostname: req.hostname },
        'error' in result ? result : undefined,
      ),
    );
  };

  return {
    tokenDeps,
    silentAuthLog,
    transactions,
    sessions,
    consent,
    nowSeconds,
    answer,
    errorPage,
    pageError,
    /** The user may still use the session: present and neither blocked nor replaced since it began. */
    async sessionUser(session: Session): Promise<User | undefined> {
      const user = await deps.store.users.findById(session.userId);
      return user && subjectProblem(user, session.authenticatedAt) === undefined ? user : undefined;
    },
    /**
     * The last step: the policy decides, the consent page asks when the user's consent is missing, then a code
     * goes to the client (or the refusal does).
     */
    async finish(
      reply: FastifyReply,
      client: Client,
      request: AuthorizeRequest,
      user: User,
      session: Session,
    ): Promise<FastifyReply> {
      const target: ReplyTarget = request;
      const done = (result: AuthorizeResult) => {
        if (request.promptNone) silentAuthLog(reply, client, request, user, result);
        return answer(reply, target, result);
      };
      const decision = await policyOf(client, request, user);
      if ('error' in decision) return done(decision);
      const missing = await consent.missing(client, request, user, session, decision);
      if (missing && request.promptNone) return done(CONSENT_REQUIRED);
      if (missing) return consent.ask(reply, request, missing);
      await sessions.signedInTo(session, client.clientId);
      // Transactions started before response types were kept carry none: they asked for a code.
      const words = (request.responseType as AuthorizeRequest['responseType'] | undefined) ?? ['code'];
      const code = words.includes('code')
        ? await codes.issue({
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
            ...signInProof(session, request),
            refreshFamilyId: deps.ids.prefixed('rtf'),
            ...(request.dpopJkt !== undefined ? { dpopJkt: request.dpopJkt } : {}),
          })
        : undefined;
      if (code !== undefined && !words.includes('token') && !words.includes('id_token'))
        return done({ code });
      let result: AuthorizeResult;
      try {
        result = await frontChannelTokens(client, { ...request, responseType: words }, user, session, code);
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        result = { error: 'access_denied', error_description: error.message };
      }
      return done(result);
    },
  };

  /**
   * The implicit and hybrid tokens (OIDC Core §3.2.2.5, §3.3.2.5), from the one user-token issuer: the ID
   * token with the nonce, session and the hashes of what travels beside it; the access token with the API's
   * token_lifetime_for_web; never a refresh token.
   */
  async function frontChannelTokens(
    client: Client,
    request: AuthorizeRequest,
    user: User,
    session: Session,
    code: string | undefined,
  ): Promise<AuthorizeSuccess> {
    const words = request.responseType;
    const withToken = words.includes('token');
    const withIdToken = words.includes('id_token');
    const tokens = await issueUserTokens(
      {
        client,
        user,
        audience: request.audience,
        requested: parseScope(request.scope),
        gty: 'implicit',
        from: { ip: '', userAgent: undefined },
        context: {
          ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
          authTime: session.authenticatedAt,
          sid: session.id,
          ...signInProof(session, request),
          atHash: withToken,
          idToken: withIdToken,
          ...(code !== undefined ? { code } : {}),
          frontChannel: true,
        },
      },
      tokenDeps,
    );
    return {
      ...(code !== undefined ? { code } : {}),
      ...(withToken
        ? {
            access_token: tokens.access_token,
            ...(tokens.scope !== undefined ? { scope: tokens.scope } : {}),
            expires_in: tokens.expires_in,
            token_type: tokens.token_type,
          }
        : {}),
      ...(withIdToken && tokens.id_token !== undefined ? { id_token: tokens.id_token } : {}),
    };
  }
}
export type Authorization = ReturnType<typeof createAuthorization>;
