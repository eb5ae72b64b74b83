import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { listView, offsetListBody, PageQuery, toPage } from '../pagination.js';
import { createGrantService, toGrantView } from './service.js';

const GrantView = Type.Object({
  id: Type.String(),
  clientID: Type.String(),
  user_id: Type.String(),
  audience: Type.String(),
  scope: Type.Array(Type.String()),
});
const GrantQuery = Type.Object(
  {
    ...PageQuery,
    user_id: Type.Optional(Type.String({ maxLength: 300 })),
    client_id: Type.Optional(Type.String({ maxLength: 64 })),
    audience: Type.Optional(Type.String({ maxLength: 600 })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });
const UserIdQuery = Type.Object(
  { user_id: Type.String({ minLength: 1, maxLength: 300 }) },
  { additionalProperties: false },
);

/** /grants: a user's consents, whose deletion revokes their refresh tokens. */
export const grantRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createGrantService(deps);

  app.get(
    '/grants',
    {
      schema: { querystring: GrantQuery, response: { 200: listView('grants', GrantView) } },
      preHandler: requireScope('read:grants'),
    },
    async (req) => {
      const q = req.query;
      const filter = {
        ...(q.user_id !== undefined ? { userId: q.user_id } : {}),
        ...(q.client_id !== undefined ? { clientId: q.client_id } : {}),
        ...(q.audience !== undefined ? { audience: q.audience } : {}),
      };
      const { items, total } = await service.list(filter, toPage(q));
      return offsetListBody('grants', items.map(toGrantView), q, total);
    },
  );

  app.delete(
    '/grants/:id',
    { schema: { params: IdParams }, preHandler: requireScope('delete:grants') },
    async (req, reply) => {
      await service.remove(req.params.id);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/grants',
    { schema: { querystring: UserIdQuery }, preHandler: requireScope('delete:grants') },
    async (req, reply) => {
      await service.removeForUser(req.query.user_id);
      return reply.status(204).send();
    },
  );
};
