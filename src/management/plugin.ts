import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFound, TooManyRequests } from '../errors/api.js';
import type { Deps } from '../server/deps.js';
import { createMemoryRateLimiter, createRedisRateLimiter, rateLimitHeaders } from '../server/rate-limit.js';
import { renderApiError } from '../server/render-api-error.js';
import { createManagementAuthenticator, isScopeCheck } from './auth.js';
import { clientGrantRoutes } from './client-grants/routes.js';
import { clientRoutes } from './clients/routes.js';
import { connectionRoutes } from './connections/routes.js';
import { userRoutes } from './users/routes.js';
import { roleRoutes } from './roles/routes.js';
import { grantRoutes } from './grants/routes.js';
import { userBlockRoutes } from './user-blocks/routes.js';
import { keyRoutes } from './keys/routes.js';
import { resourceServerRoutes } from './resource-servers/routes.js';
import { tenantSettingsRoutes } from './tenant-settings/routes.js';
import { actionRoutes } from './actions/routes.js';

const NO_QUERY = Type.Object({}, { additionalProperties: false });

/** The Management API v2 surface: bearer auth, scope checks, Auth0's error shape. */
export const managementPlugin: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const authenticate = createManagementAuthenticator(deps);
  const now = () => deps.clock.now();
  const limiter = deps.redis
    ? createRedisRateLimiter(
        deps.redis,
        deps.managementRateLimit,
        now,
        (m) => {
          app.log.warn(m);
        },
        'latchkey:rl:mgmt:',
      )
    : createMemoryRateLimiter(deps.managementRateLimit, now);

  app.decorateRequest('managementAuth', null);
  app.setErrorHandler((err, req, reply) => {
    const rendered = renderApiError(err);
    if (rendered.status >= 500) req.log.error({ err }, 'management api error');
    return reply.status(rendered.status).headers(rendered.headers).send(rendered.body);
  });
  app.setNotFoundHandler(() => {
    throw new NotFound('not_found', 'Not Found');
  });
  app.addHook('onRequest', async (req, reply) => {
    await authenticate(req);
    const result = await limiter.hit(req.managementAuth?.clientId ?? req.managementAuth?.sub ?? 'anonymous');
    void reply.headers(rateLimitHeaders(result));
    if (!result.allowed) {
      // SDKs back off by Retry-After first (spec 0).
      void reply.header('retry-after', String(Math.max(1, result.reset - Math.floor(now() / 1000))));
      throw new TooManyRequests();
    }
  });
  // Any successful write can change what the token endpoint must answer.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method !== 'GET' && reply.statusCode < 400) {
      deps.invalidation.publish(req.url.includes('/keys/signing') ? 'keys' : 'config');
    }
    return Promise.resolve(payload);
  });

  // Auth0 answers an unknown query parameter with invalid_query_string, also on routes that take none.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, querystring: route.schema?.querystring ?? NO_QUERY };
    // Scope checks run before validation: a caller without the scope learns nothing about the schema.
    const preHandlers = [route.preHandler ?? []].flat();
    const checks = preHandlers.filter(isScopeCheck);
    if (checks.length > 0) {
      type Hooks = NonNullable<typeof route.preValidation>;
      route.preValidation = [...[route.preValidation ?? []].flat(), ...checks] as Hooks;
      route.preHandler = preHandlers.filter((h) => !isScopeCheck(h));
    }
  });

  await app.register(resourceServerRoutes, { deps });
  await app.register(clientRoutes, { deps });
  await app.register(clientGrantRoutes, { deps });
  await app.register(keyRoutes, { deps });
  await app.register(tenantSettingsRoutes, { deps });
  await app.register(connectionRoutes, { deps });
  await app.register(userRoutes, { deps });
  await app.register(roleRoutes, { deps });
  await app.register(grantRoutes, { deps });
  await app.register(userBlockRoutes, { deps });
  await app.register(actionRoutes);
};
