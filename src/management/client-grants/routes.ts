import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';

// TODO(#2): routes for /client-grants.
export const clientGrantRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (_app, _opts) => {
  await Promise.resolve();
};
