import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BadRequest } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { decodeCursor, encodeCursor, offsetListBody, toPage } from '../pagination.js';
import {
  ClientGrantCreate,
  ClientGrantListQuery,
  ClientGrantListView,
  ClientGrantParams,
  ClientGrantUpdate,
  ClientGrantView,
  toClientGrantView,
} from './schemas.js';
import { createClientGrantService } from './service.js';

export const clientGrantRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createClientGrantService(deps);

  app.get(
    '/client-grants',
    {
      schema: { querystring: ClientGrantListQuery, response: { 200: ClientGrantListView } },
      preHandler: requireScope('read:client_grants'),
    },
    async (req) => {
      const q = req.query;
      const filter = {
        ...(q.audience !== undefined ? { audience: q.audience } : {}),
        ...(q.client_id !== undefined ? { clientId: q.client_id } : {}),
        ...(q.subject_type !== undefined ? { subjectType: q.subject_type } : {}),
        ...(q.default_for !== undefined ? { defaultFor: q.default_for } : {}),
        ...(q.allow_any_organization !== undefined ? { allowAnyOrganization: q.allow_any_organization } : {}),
      };
      const checkpoint = q.from !== undefined || q.take !== undefined;
      if (
        checkpoint &&
        (q.page !== undefined || q.per_page !== undefined || q.include_totals !== undefined)
      ) {
        throw new BadRequest(
          'invalid_query_string',
          'Query validation error: use either page/per_page or from/take, not both.',
        );
      }
      if (checkpoint) {
        const take = q.take ?? 50;
        const afterId = q.from === undefined ? undefined : decodeCursor(q.from);
        const { items } = await service.list(filter, { offset: 0, limit: take + 1 }, afterId);
        const page = items.slice(0, take);
        const last = page.at(-1);
        return {
          client_grants: page.map(toClientGrantView),
          ...(items.length > take && last ? { next: encodeCursor(last.id) } : {}),
        };
      }
      const { items, total } = await service.list(filter, toPage(q));
      return offsetListBody('client_grants', items.map(toClientGrantView), q, total);
    },
  );

  app.post(
    '/client-grants',
    {
      schema: { body: ClientGrantCreate, response: { 201: ClientGrantView } },
      preHandler: requireScope('create:client_grants'),
    },
    async (req, reply) => reply.status(201).send(toClientGrantView(await service.create(req.body))),
  );

  app.get(
    '/client-grants/:id',
    {
      schema: { params: ClientGrantParams, response: { 200: ClientGrantView } },
      preHandler: requireScope('read:client_grants'),
    },
    async (req) => toClientGrantView(await service.get(req.params.id)),
  );

  app.patch(
    '/client-grants/:id',
    {
      schema: { params: ClientGrantParams, body: ClientGrantUpdate, response: { 200: ClientGrantView } },
      preHandler: requireScope('update:client_grants'),
    },
    async (req) => toClientGrantView(await service.update(req.params.id, req.body)),
  );

  app.delete(
    '/client-grants/:id',
    { schema: { params: ClientGrantParams }, preHandler: requireScope('delete:client_grants') },
    async (req, reply) => {
      await service.remove(req.params.id);
      return reply.status(204).send();
    },
  );
};
