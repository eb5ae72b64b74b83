import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { checkpointPage } from '../pagination.js';
import {
  RefreshTokenParams,
  RefreshTokenView,
  toRefreshTokenView,
  UserRefreshTokensQuery,
  UserRefreshTokensView,
} from './schemas.js';
import { createRefreshTokenService } from './service.js';

/** /users/{id}/refresh-tokens and /refresh-tokens/{id} (Auth0's refresh-token endpoints). */
export const refreshTokenRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createRefreshTokenService(deps);

  app.get(
    '/users/:id/refresh-tokens',
    {
      schema: {
        params: RefreshTokenParams,
        querystring: UserRefreshTokensQuery,
        response: { 200: UserRefreshTokensView },
      },
      preHandler: requireScope('read:refresh_tokens'),
    },
    async (req) =>
      checkpointPage(
        'tokens',
        req.query,
        (afterId, limit) => service.listForUser(req.params.id, afterId, limit),
        toRefreshTokenView,
      ),
  );

  app.delete(
    '/users/:id/refresh-tokens',
    { schema: { params: RefreshTokenParams }, preHandler: requireScope('delete:refresh_tokens') },
    async (req, reply) => {
      await service.revokeForUser(req.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/refresh-tokens/:id',
    {
      schema: { params: RefreshTokenParams, response: { 200: RefreshTokenView } },
      preHandler: requireScope('read:refresh_tokens'),
    },
    async (req) => toRefreshTokenView(await service.get(req.params.id)),
  );

  app.delete(
    '/refresh-tokens/:id',
    { schema: { params: RefreshTokenParams }, preHandler: requireScope('delete:refresh_tokens') },
    async (req, reply) => {
      await service.revoke(req.params.id);
      return reply.status(204).send();
    },
  );
};
