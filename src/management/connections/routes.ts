import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BadRequest } from '../../errors/api.js';
import type { Deps } from '../../server/deps.js';
import { requireScope } from '../auth.js';
import { decodeCursor, encodeCursor, offsetListBody, selectFields, toPage } from '../pagination.js';
import {
  ConnectionCreate,
  ConnectionListQuery,
  ConnectionListView,
  ConnectionParams,
  ConnectionUpdate,
  ConnectionView,
  toConnectionView,
} from './schemas.js';
import { createConnectionService } from './service.js';

export const connectionRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const service = createConnectionService(deps);

  app.get(
    '/connections',
    {
      schema: { querystring: ConnectionListQuery, response: { 200: ConnectionListView } },
      preHandler: requireScope('read:connections'),
    },
    async (req) => {
      const q = req.query;
      const filter = {
        ...(q.strategy !== undefined ? { strategy: q.strategy } : {}),
        ...(q.name !== undefined ? { name: q.name } : {}),
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
        const rows = await service.list(
          filter,
          { offset: 0, limit: take + 1 },
          q.from === undefined ? undefined : decodeCursor(q.from),
        );
        const page = rows.slice(0, take);
        const last = page.at(-1);
        return {
          connections: page.map((c) => selectFields(toConnectionView(c), q)),
          ...(rows.length > take && last ? { next: encodeCursor(last.id) } : {}),
        };
      }
      const all = await service.list(filter, { offset: 0, limit: 100_000 });
      const { offset, limit } = toPage(q);
      const views = all.slice(offset, offset + limit).map((c) => selectFields(toConnectionView(c), q));
      return offsetListBody('connections', views, q, all.length);
    },
  );

  app.post(
    '/connections',
    {
      schema: { body: ConnectionCreate, response: { 201: ConnectionView } },
      preHandler: requireScope('create:connections'),
    },
    async (req, reply) => reply.status(201).send(toConnectionView(await service.create(req.body))),
  );

  app.get(
    '/connections/:id',
    {
      schema: { params: ConnectionParams, response: { 200: ConnectionView } },
      preHandler: requireScope('read:connections'),
    },
    async (req) => toConnectionView(await service.get(req.params.id)),
  );

  app.patch(
    '/connections/:id',
    {
      schema: { params: ConnectionParams, body: ConnectionUpdate, response: { 200: ConnectionView } },
      preHandler: requireScope('update:connections'),
    },
    async (req) => toConnectionView(await service.update(req.params.id, req.body)),
  );

  app.delete(
    '/connections/:id',
    { schema: { params: ConnectionParams }, preHandler: requireScope('delete:connections') },
    async (req, reply) => {
      await service.remove(req.params.id);
      return reply.status(202).send();
    },
  );
};
