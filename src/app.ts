import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { managementPlugin } from './management/plugin.js';
import { passkeyRoutes } from './passkeys/routes.js';
import { myAccountRoutes } from './myaccount/routes.js';
import { selfDescription } from './meta/plugin.js';
import { authorizeRoutes } from './oauth/authorize/routes.js';
import { loginRoutes } from './login/routes.js';
import { consentRoutes } from './login/consent-routes.js';
import { logoutRoutes } from './logout/routes.js';
import { oauthRoutes } from './oauth/routes.js';
import { mfaApiRoutes } from './mfa-api/routes.js';
import { accountPageRoutes } from './pages/account-routes.js';
import { dbConnectionRoutes } from './dbconnections/routes.js';
import { pageRoutes } from './pages/routes.js';
import type { Deps } from './server/deps.js';
import { httpServerOptions, limitConnections } from './server/http-limits.js';
import { refuseUnstorableInput } from './server/nul-guard.js';
import {
  MANAGEMENT_PREFIX,
  MY_ACCOUNT_PREFIX,
  renderErrorForPath,
  routeNotFound,
} from './server/surface-errors.js';
import { createValidatorCompiler } from './server/validators.js';
import { pageLookOf } from './pages/look.js';

export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.dpop',
  'req.body.client_secret',
  'req.body.password',
  'req.body.password_confirmation',
  'req.body.client_assertion',
  'req.body.refresh_token',
];

export interface AppOptions {
  readonly logger?: FastifyServerOptions['logger'];
}

/**
 * Long enough for every id a params schema accepts, even percent-encoded (resource-server identifiers
 * reach 700 characters), so an over-long id gets the route's own 400 or 404 rather than a router 414.
 */
const MAX_PARAM_LENGTH = 4096;
const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Every error: each surface's, the router's and unknown routes', rendered by the surface table. */
function sendSurfaceError(issuer: string, err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const rendered = renderErrorForPath(req.url, err, { issuer, look: req.pageLook });
  if (rendered.status >= 500) req.log.error({ err }, 'unhandled error');
  void reply.status(rendered.status).headers(rendered.headers).send(rendered.body);
}

/** Builds the whole HTTP app without listening; tests drive it with inject(). */
export async function buildApp(deps: Deps, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 1024 * 1024,
    trustProxy: toTrustProxy(deps.config.trustProxy),
    // Per-request lines would dominate the hot path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // Malformed and over-long URLs fail in the router, before any surface plugin sees the request.
    frameworkErrors: (err, req, reply) => {
      sendSurfaceError(deps.config.issuer, err, req, reply);
    },
    ...httpServerOptions(deps.config.server),
  }).withTypeProvider<TypeBoxTypeProvider>();
  limitConnections(app.server, deps.config.server);
  app.setValidatorCompiler(createValidatorCompiler());
  app.addHook('preValidation', refuseUnstorableInput);
  app.setErrorHandler((err, req, reply) => {
    sendSurfaceError(deps.config.issuer, err, req, reply);
  });
  // Pages wear the tenant's name and branding (cached settings); API requests never load them.
  app.decorateRequest('pageLook', undefined);
  // A callback hook: API requests pass it without a promise.
  app.addHook('onRequest', (req, _reply, done) => {
    if (!isPagePath(req.url)) {
      done();
      return;
    }
    deps.lookups.tenantSettings().then((settings) => {
      req.pageLook = pageLookOf(settings);
      done();
    }, done);
  });
  // The Management plugin answers its own unknown routes; this one answers every other path.
  app.setNotFoundHandler((req, reply) => {
    const path = (req.url.split('?', 1)[0] ?? '').replace(/(.)\/$/, '$1');
    // hasRoute reads its url as a route pattern: only plain paths (all OAuth routes are) may reach it.
    const plain = /^[\w./-]*$/.test(path);
    const allowed = plain ? ROUTE_METHODS.filter((method) => app.hasRoute({ method, url: path })) : [];
    if (allowed.length > 0) void reply.header('allow', allowed.join(', '));
    throw routeNotFound(req.method, req.url, allowed);
  });
  await deps.keystore.reload();
  // First: it builds the discovery and OpenAPI documents from the routes registered after it.
  await app.register(selfDescription, { issuer: deps.config.issuer });
  await app.register(oauthRoutes, { deps });
  await app.register(mfaApiRoutes, { deps });
  await app.register(authorizeRoutes, { deps });
  await app.register(loginRoutes, { deps });
  await app.register(consentRoutes, { deps });
  await app.register(logoutRoutes, { deps });
  await app.register(managementPlugin, { deps, prefix: MANAGEMENT_PREFIX });
  await app.register(myAccountRoutes, { deps, prefix: MY_ACCOUNT_PREFIX });
  await app.register(dbConnectionRoutes, { deps });
  await app.register(passkeyRoutes, { deps });
  await app.register(pageRoutes, { deps });
  await app.register(accountPageRoutes, { deps });
  return app;
}

/** Paths that answer HTML pages: the hosted pages, /authorize's error and form_post pages, the front page, logout. */
function isPagePath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return (
    path === '/' || path === '/u' || path.startsWith('/u/') || path === '/authorize' || path === '/v2/logout'
  );
}

// Fastify refuses a bare hop count (it cannot vouch for the peer); a function trusts the last `value` hops,
// so the address is the one the outermost of them saw.
function toTrustProxy(
  value: false | number | string,
): false | string | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address, hop) => hop < value : value;
}
