import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { managementPlugin } from './management/plugin.js';
import { oauthRoutes } from './oauth/routes.js';
import type { Deps } from './server/deps.js';
import { refuseNul } from './server/nul-guard.js';
import { createValidatorCompiler } from './server/validators.js';

export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.dpop',
  'req.body.client_secret',
  'req.body.password',
  'req.body.client_assertion',
  'req.body.refresh_token',
];

export interface AppOptions {
  readonly logger?: FastifyServerOptions['logger'];
}

/** Builds the whole HTTP app without listening; tests drive it with inject(). */
export async function buildApp(deps: Deps, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 1024 * 1024,
    trustProxy: true,
    // Per-request lines would dominate the hot path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(createValidatorCompiler());
  app.addHook('preValidation', refuseNul);
  await deps.keystore.reload();
  await app.register(oauthRoutes, { deps });
  await app.register(managementPlugin, { deps, prefix: '/api/v2' });
  return app;
}
