import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { User } from '../domain/user.js';
import { Forbidden, insufficientScope, TooManyRequests, Unauthorized } from '../errors/api.js';
import { myAccountAudience } from '../management/resource-servers/my-account.js';
import { webOriginPatterns } from '../oauth/cors.js';
import { subjectProblem } from '../oauth/tokens/subject-standing.js';
import {
  authenticatedRequests,
  scopeCheck,
  type AuthFailure,
  type RequestAuth,
  type ScopeCheck,
} from '../server/authenticated-request.js';
import { corsOnSend, preflightHandler } from '../server/cors.js';
import type { Deps } from '../server/deps.js';
import { resourceDpop } from '../server/resource-dpop.js';
import { createMemoryRateLimiter, createRedisRateLimiter } from '../server/rate-limit.js';
import { stepUpMaxAgeSeconds } from '../server/step-up.js';
import { routeNotFound } from '../server/surface-errors.js';
import {
  EnrolmentStartBody,
  EnrolmentVerifyBody,
  MethodListQuery,
  MethodParams,
  MethodPatchBody,
  NoQuery,
} from './schemas.js';
import { enabledFactors, withFactors } from './factors.js';
import { createMyAccountService } from './service.js';

/** What a page on an application's origin may read beyond the safelisted headers (spec 3.8). */
const EXPOSE_HEADERS =
  'Location, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, WWW-Authenticate';

/** The token's scopes must include `scope` (spec 3.1); 403 insufficient_scope otherwise. */
function requireScope(scope: string): ScopeCheck {
  return scopeCheck((req) => {
    if (req.auth?.scopes.has(scope) !== true) throw insufficientScope([scope]);
  });
}

/** Every failed authentication is a 401 in the problem shape (spec 3.7), with RFC 6750's challenge. */
function myAccountAuthError(failure: AuthFailure): Unauthorized {
  if (failure.reason === 'missing') return new Unauthorized('Missing authentication', 'Bearer');
  if (failure.dpop) return new Unauthorized(failure.message, failure.dpop.challenge);
  const message = failure.reason === 'bad_header' ? 'Bad HTTP authentication header format' : failure.message;
  return new Unauthorized(
    message,
    `Bearer error="invalid_token", error_description="${message.replaceAll('"', "'")}"`,
  );
}

/** The token's user, if it may still act for them (issue 9: exists, not blocked, older than the token). */
function standing(user: User | undefined, auth: RequestAuth): User {
  if (!user || subjectProblem(user, auth.claims.iat ?? 0) !== undefined) {
    throw new Unauthorized('Invalid token', 'Bearer error="invalid_token"');
  }
  return user;
}

/** The user the request acts for: the subject hook loaded it or refused the request. */
function userOf(req: FastifyRequest): User {
  if (!req.user) throw new Unauthorized('Invalid token');
  return req.user;
}

/**
 * The My Account API (spec 3), under /me/v1: answers only while the API is activated (the resource server
 * `{issuer}me/` exists), to tokens for that audience, within a per-tenant rate limit.
 */
export const myAccountRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const audience = myAccountAudience(deps.config.issuer);
  const now = () => deps.clock.now();
  const limit = deps.config.server.myAccountRateLimit;
  const limiter = deps.redis
    ? createRedisRateLimiter(
        deps.redis,
        limit,
        now,
        (m) => {
          app.log.warn(m);
        },
        `${deps.redisNamespace}rl:me:`,
      )
    : createMemoryRateLimiter(limit, now);
  const service = withFactors(deps, createMyAccountService(deps), app.log);

  // Preflights name no token: they are checked against every application's origins, as /oauth/token's are.
  app.options(
    '/*',
    { schema: { hide: true } },
    preflightHandler({
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      tenantOrigins: () => deps.lookups.tenantOrigins(),
    }),
  );

  await app.register(async (context) => {
    const me = context.withTypeProvider<TypeBoxTypeProvider>();
    // Before authentication: an API that is not activated does not exist (spec 3.7, A0E-404-0001).
    // A callback hook: while the resource server is cached, the check costs no promise.
    me.addHook('onRequest', (req, _reply, done) => {
      if (deps.lookups.cachedResourceServer(audience)) {
        done();
        return;
      }
      deps.lookups.resourceServer(audience).then((api) => {
        done(api ? undefined : routeNotFound(req.method, req.url, []));
      }, done);
    });
    await me.register(authenticatedRequests, {
      tokens: deps.verifiedTokens,
      now,
      audience,
      // auth0-spa-js always asks for openid, which adds the userinfo audience (spec 3.8).
      audienceRule: 'includes',
      schemes: ['Bearer', 'DPoP'],
      dpop: resourceDpop(deps, audience),
      headers: { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
      failure: myAccountAuthError,
      rateLimit: {
        limiter,
        // Every user of the tenant counts against one window (Auth0: 25 per second per tenant).
        key: () => deps.tenantId,
        tooManyRequests: () => new TooManyRequests(),
      },
      // Read through the user cache: a hit answers without a promise; writes forget it on every node.
      subject: (auth) => {
        const found = deps.userReads.user(auth.sub);
        return found instanceof Promise ? found.then((user) => standing(user, auth)) : standing(found, auth);
      },
      // Enrolling and deleting authentication methods declare `stepUp`: the tenant's window applies to them.
      stepUp: {
        maxAgeSeconds: async () => stepUpMaxAgeSeconds(await deps.lookups.tenantSettings()),
        failure: (refusal) =>
          new Forbidden('insufficient_user_authentication', refusal.message, refusal.challenge),
      },
    });
    // Pages of the token's application may read every answer, errors included.
    me.addHook(
      'onSend',
      corsOnSend(async (req) => {
        const clientId = req.auth?.clientId ?? req.auth?.claims['client_id'];
        return typeof clientId === 'string' ? deps.lookups.client(clientId) : undefined;
      }, EXPOSE_HEADERS),
    );

    // The exact Allowed Web Origins of the token's application: where its pages may enrol a passkey.
    const appOriginsOf = async (req: FastifyRequest): Promise<string[]> => {
      const clientId = req.auth?.clientId ?? req.auth?.claims['client_id'];
      const client = typeof clientId === 'string' ? await deps.lookups.client(clientId) : undefined;
      if (!client) return [];
      return webOriginPatterns(client.settings).flatMap((p) => (p.kind === 'exact' ? [p.origin] : []));
    };

    const locationOf = (id: string) =>
      `${deps.config.issuer}me/v1/authentication-methods/${encodeURIComponent(id)}`;

    me.get(
      '/factors',
      { schema: { querystring: NoQuery }, preHandler: requireScope('read:me:factors') },
      async () => ({ factors: await enabledFactors(deps) }),
    );

    me.get(
      '/authentication-methods',
      {
        schema: { querystring: MethodListQuery },
        preHandler: requireScope('read:me:authentication_methods'),
      },
      async (req, reply) =>
        reply
          .type('application/json; charset=utf-8')
          .send(await service.methodListJson(userOf(req), req.query.type)),
    );

    me.post(
      '/authentication-methods',
      {
        schema: { querystring: NoQuery, body: EnrolmentStartBody },
        config: { stepUp: true },
        preHandler: requireScope('create:me:authentication_methods'),
      },
      async (req, reply) => {
        const started = await service.startEnrolment(userOf(req), req.body);
        const id = typeof started['id'] === 'string' ? started['id'] : 'passkey|new';
        return reply.status(202).header('location', locationOf(id)).send(started);
      },
    );

    me.get(
      '/authentication-methods/:id',
      {
        schema: { querystring: NoQuery, params: MethodParams },
        preHandler: requireScope('read:me:authentication_methods'),
      },
      async (req) => service.method(userOf(req), req.params.id),
    );

    me.patch(
      '/authentication-methods/:id',
      {
        schema: { querystring: NoQuery, params: MethodParams, body: MethodPatchBody },
        preHandler: requireScope('update:me:authentication_methods'),
      },
      async (req) => service.rename(userOf(req), req.params.id, req.body),
    );

    me.delete(
      '/authentication-methods/:id',
      {
        schema: { querystring: NoQuery, params: MethodParams },
        config: { stepUp: true },
        preHandler: requireScope('delete:me:authentication_methods'),
      },
      async (req, reply) => {
        await service.remove(userOf(req), req.params.id);
        return reply.status(204).send();
      },
    );

    me.post(
      '/authentication-methods/:id/verify',
      {
        schema: { querystring: NoQuery, params: MethodParams, body: EnrolmentVerifyBody },
        config: { stepUp: true },
        preHandler: requireScope('create:me:authentication_methods'),
      },
      async (req, reply) => {
        const method = await service.verifyEnrolment(
          userOf(req),
          req.params.id,
          req.body,
          req.headers['user-agent'],
          await appOriginsOf(req),
        );
        return reply
          .status(201)
          .header('location', locationOf(String(method['id'])))
          .send(method);
      },
    );
  });
};
