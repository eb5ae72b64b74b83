import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TooManyRequests, Unauthorized } from '../errors/api.js';
import { subjectProblem } from '../oauth/tokens/subject-standing.js';
import { authenticatedRequests, type RequestAuth } from '../server/authenticated-request.js';
import type { Deps } from '../server/deps.js';
import { resourceDpop } from '../server/resource-dpop.js';
import { addressKey } from '../server/failed-auth-limit.js';
import { createMemoryRateLimiter, createRedisRateLimiter } from '../server/rate-limit.js';
import { routeNotFound } from '../server/surface-errors.js';
import { managementAuthError } from './auth.js';
import { clientGrantRoutes } from './client-grants/routes.js';
import { clientRoutes } from './clients/routes.js';
import { connectionRoutes } from './connections/routes.js';
import { userRoutes } from './users/routes.js';
import { userAuthenticationMethodRoutes } from './users/authentication-methods.js';
import { userEnrollmentRoutes } from './users/enrollments.js';
import { legacyIdTokens } from './legacy-id-tokens.js';
import { deviceCredentialRoutes } from './device-credentials/routes.js';
import { roleRoutes } from './roles/routes.js';
import { grantRoutes } from './grants/routes.js';
import { refreshTokenRoutes } from './refresh-tokens/routes.js';
import { sessionRoutes } from './sessions/routes.js';
import { logStreamRoutes } from './log-streams/routes.js';
import { userBlockRoutes } from './user-blocks/routes.js';
import { ticketRoutes } from './tickets/routes.js';
import { keyRoutes } from './keys/routes.js';
import { resourceServerRoutes } from './resource-servers/routes.js';
import { tenantSettingsRoutes } from './tenant-settings/routes.js';
import { brandingRoutes } from './branding/routes.js';
import { guardianRoutes } from './guardian/routes.js';
import { actionRoutes } from './actions/routes.js';
import { logRoutes } from './logs/routes.js';
import { managementAudience } from './scopes.js';
import { isManagementWrite, managementEvents } from '../logs/management-events.js';

const NO_QUERY = Type.Object({}, { additionalProperties: false });

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a successful call of this route changes in the nodes' caches ('keys': the signing keys). */
    readonly invalidates?: 'config' | 'keys';
  }
}

/** The Management API v2 surface: bearer auth, scope checks, Auth0's error shape. */
export const managementPlugin: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const now = () => deps.clock.now();
  const limiter = deps.redis
    ? createRedisRateLimiter(
        deps.redis,
        deps.managementRateLimit,
        now,
        (m) => {
          app.log.warn(m);
        },
        `${deps.redisNamespace}rl:mgmt:`,
      )
    : createMemoryRateLimiter(deps.managementRateLimit, now);

  await app.register(authenticatedRequests, {
    tokens: deps.verifiedTokens,
    now,
    audience: managementAudience(deps.config.issuer),
    audienceRule: 'exact',
    schemes: ['Bearer', 'DPoP'],
    dpop: resourceDpop(deps, managementAudience(deps.config.issuer)),
    otherAudience: legacyIdTokens(deps),
    // Answers carry client secrets and user data: never cached, never sniffed into another type.
    headers: { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    failure: managementAuthError,
    failedAuth: {
      limiter: deps.failedAuth,
      key: (req) => addressKey(deps.tenantId, req.ip),
      tooManyRequests: () => new TooManyRequests(),
    },
    rateLimit: {
      limiter,
      key: (auth) => auth.clientId ?? auth.sub,
      tooManyRequests: () => new TooManyRequests(),
    },
    subject: userSubject(deps),
  });
  // Unknown paths under /api/v2 authenticate (and count against the rate limit) like known ones.
  app.setNotFoundHandler((req) => {
    throw routeNotFound(req.method, req.url, []);
  });

  // Every write by an authenticated caller is a tenant log event (Auth0's sapi/fapi), recorded off the request path.
  app.addHook('onResponse', async (req, reply) => {
    if (!req.auth || !isManagementWrite(req.method)) return;
    const route = (req.routeOptions.url ?? '').replace(/^\/api\/v2/, '');
    const events = managementEvents({
      method: req.method,
      route,
      path: req.url.split('?')[0]?.replace(/^\/api\/v2/, '') ?? '',
      params: (req.params ?? {}) as Record<string, string>,
      body: req.body,
      status: reply.statusCode,
      auth: req.auth,
      ip: req.ip,
      userAgent: req.headers['user-agent'],
      hostname: req.hostname,
    });
    for (const event of events) deps.events.record(event);
  });

  app.addHook('onRoute', (route) => {
    // Auth0 answers an unknown query parameter with invalid_query_string, also on routes that take none.
    route.schema = { ...route.schema, querystring: route.schema?.querystring ?? NO_QUERY };
    // Only writes that change what the nodes cache tell the nodes; reads and other writes pay nothing.
    const what = route.config?.invalidates;
    if (what !== undefined) {
      type Hooks = NonNullable<typeof route.onSend>;
      const publish = async (_req: unknown, reply: { statusCode: number }, payload: unknown) => {
        if (reply.statusCode < 400) deps.invalidation.publish(what);
        return payload;
      };
      route.onSend = [...[route.onSend ?? []].flat(), publish] as Hooks;
    }
  });

  await app.register(resourceServerRoutes, { deps });
  await app.register(clientRoutes, { deps });
  await app.register(clientGrantRoutes, { deps });
  await app.register(keyRoutes, { deps });
  await app.register(tenantSettingsRoutes, { deps });
  await app.register(brandingRoutes, { deps });
  await app.register(guardianRoutes, { deps });
  await app.register(connectionRoutes, { deps });
  await app.register(userRoutes, { deps });
  await app.register(userAuthenticationMethodRoutes, { deps });
  await app.register(userEnrollmentRoutes, { deps });
  await app.register(deviceCredentialRoutes, { deps });
  await app.register(roleRoutes, { deps });
  await app.register(grantRoutes, { deps });
  await app.register(refreshTokenRoutes, { deps });
  await app.register(sessionRoutes, { deps });
  await app.register(userBlockRoutes, { deps });
  await app.register(ticketRoutes, { deps });
  await app.register(logRoutes, { deps });
  await app.register(logStreamRoutes, { deps });
  await app.register(actionRoutes);
};

/**
 * A user's token acts only for a user that exists, is not blocked and is older than the token (Auth0's 401
 * "Invalid token" otherwise). A client-credentials token acts for no user and pays nothing here.
 */
function userSubject(deps: Deps): (auth: RequestAuth) => Promise<undefined> | undefined {
  const assertStanding = async (userId: string, issuedAt: number): Promise<undefined> => {
    if (subjectProblem(await deps.store.users.findStanding(userId), issuedAt) !== undefined) {
      throw new Unauthorized('Invalid token');
    }
    return undefined;
  };
  return (auth) => (auth.isUser ? assertStanding(auth.sub, auth.claims.iat ?? 0) : undefined);
}
