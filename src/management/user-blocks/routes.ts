import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { createUserBlockService } from './service.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });
const IdentifierQuery = Type.Object(
  { identifier: Type.String({ minLength: 1, maxLength: 300 }) },
  { additionalProperties: false },
);
// Auth0 docs: with consider_brute_force_enablement=true, a connection without brute-force protection
// reports no blocks.
const considerFlag = { consider_brute_force_enablement: Type.Optional(Type.Boolean()) };
const ListByIdQuery = Type.Object(considerFlag, { additionalProperties: false });
const ListByIdentifierQuery = Type.Object(
  { identifier: Type.String({ minLength: 1, maxLength: 300 }), ...considerFlag },
  { additionalProperties: false },
);
const BlocksView = Type.Object({
  blocked_for: Type.Array(
    Type.Object({ identifier: Type.String(), ip: Type.String(), connection: Type.String() }),
  ),
});

/** /user-blocks: brute-force blocks by user id or by identifier (email or username). */
export const userBlockRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createUserBlockService(deps);

  app.get(
    '/user-blocks/:id',
    {
      schema: { params: IdParams, querystring: ListByIdQuery, response: { 200: BlocksView } },
      preHandler: requireScope('read:users'),
    },
    async (req) => service.forUser(req.params.id, req.query.consider_brute_force_enablement === true),
  );

  app.get(
    '/user-blocks',
    {
      schema: { querystring: ListByIdentifierQuery, response: { 200: BlocksView } },
      preHandler: requireScope('read:users'),
    },
    async (req) =>
      service.forIdentifier(req.query.identifier, req.query.consider_brute_force_enablement === true),
  );

  app.delete(
    '/user-blocks/:id',
    { schema: { params: IdParams }, preHandler: requireScope('update:users') },
    async (req, reply) => {
      await service.unblockUser(req.params.id);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/user-blocks',
    { schema: { querystring: IdentifierQuery }, preHandler: requireScope('update:users') },
    async (req, reply) => {
      await service.unblockIdentifier(req.query.identifier);
      return reply.status(204).send();
    },
  );
};
