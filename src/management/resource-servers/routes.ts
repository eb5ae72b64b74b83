import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';

// TODO(#2): routes for /resource-servers.
export const resourceServerRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (_app, _opts) => {
  await Promise.resolve();
};
