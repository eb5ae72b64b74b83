import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { checkpointPage } from '../pagination.js';
import { SessionParams, SessionView, toSessionView, UserSessionsQuery, UserSessionsView } from './schemas.js';
import { createSessionService } from './service.js';

/** /sessions/{id} and /users/{id}/sessions (Auth0's session endpoints). Deletes answer 202, as Auth0's do. */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createSessionService(deps);

  app.get(
    '/users/:id/sessions',
    {
      schema: {
        params: SessionParams,
        querystring: UserSessionsQuery,
        response: { 200: UserSessionsView },
      },
      preHandler: requireScope('read:sessions'),
    },
    async (req) =>
      checkpointPage(
        'sessions',
        req.query,
        (afterId, limit) => service.listForUser(req.params.id, afterId, limit),
        toSessionView,
      ),
  );

  app.delete(
    '/users/:id/sessions',
    { schema: { params: SessionParams }, preHandler: requireScope('delete:sessions') },
    async (req, reply) => {
      await service.endForUser(req.params.id);
      return reply.status(202).send();
    },
  );

  app.get(
    '/sessions/:id',
    {
      schema: { params: SessionParams, response: { 200: SessionView } },
      preHandler: requireScope('read:sessions'),
    },
    async (req) => toSessionView(await service.get(req.params.id)),
  );

  app.delete(
    '/sessions/:id',
    { schema: { params: SessionParams }, preHandler: requireScope('delete:sessions') },
    async (req, reply) => {
      await service.end(req.params.id);
      return reply.status(202).send();
    },
  );
};
