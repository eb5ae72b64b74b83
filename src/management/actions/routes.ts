import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireScope } from '../auth.js';
import { PageQuery } from '../pagination.js';

/** Auth0 docs, GET /api/v2/actions/actions: filters and offset paging (20 per page by default). */
const ActionListQuery = Type.Object(
  {
    triggerId: Type.Optional(Type.String({ maxLength: 100 })),
    actionName: Type.Optional(Type.String({ maxLength: 100 })),
    deployed: Type.Optional(Type.Boolean()),
    installed: Type.Optional(Type.Boolean()),
    page: PageQuery.page,
    per_page: PageQuery.per_page,
  },
  { additionalProperties: false },
);
const ActionListView = Type.Object({
  total: Type.Integer(),
  page: Type.Integer(),
  per_page: Type.Integer(),
  actions: Type.Array(Type.Object({})),
});

/**
 * Latchkey runs no Actions, so the list is always empty. It is served because Auth0's Deploy CLI reads it
 * while exporting or importing database connections (to name custom password-hash actions).
 */
export const actionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/actions/actions',
    {
      schema: { querystring: ActionListQuery, response: { 200: ActionListView } },
      preHandler: requireScope('read:actions'),
    },
    async (req) => ({ total: 0, page: req.query.page ?? 0, per_page: req.query.per_page ?? 20, actions: [] }),
  );
};
